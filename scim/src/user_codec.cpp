// SPDX-License-Identifier: AGPL-3.0-or-later
#include "scim/user_codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>

namespace idgate::scim {
namespace json = boost::json;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

json::value* find_member(json::object& o, std::string_view name) {
    for (auto& kv : o)
        if (iequals(kv.key(), name)) return &kv.value();
    return nullptr;
}

const json::value* find_member(const json::object& o, std::string_view name) {
    for (const auto& kv : o)
        if (iequals(kv.key(), name)) return &kv.value();
    return nullptr;
}

core::http_error bad_request(std::string scim_type, std::string detail) {
    return core::http_error(400, scim_type, std::move(detail)).with_scim_type(scim_type);
}

json::object error_body(int status, const std::string& scim_type, const std::string& detail) {
    json::object e{{"schemas", json::array{error_urn}}, {"status", std::to_string(status)}, {"detail", detail}};
    if (!scim_type.empty()) e["scimType"] = scim_type;
    return e;
}

namespace {

// Complex multi-valued core attributes that idgate keeps verbatim (they are returned as received).
constexpr std::string_view kept_core_attributes[] = {"addresses", "ims", "photos", "roles", "entitlements",
                                                     "x509Certificates"};
constexpr std::string_view name_parts[] = {"formatted", "familyName", "givenName", "middleName",
                                           "honorificPrefix", "honorificSuffix"};
constexpr std::string_view enterprise_attributes[] = {"employeeNumber", "costCenter", "organization", "division",
                                                      "department", "manager"};

std::string string_of(const json::value& v, std::string_view name) {
    if (v.is_null()) return {};
    if (!v.is_string()) throw bad_request("invalidValue", "'" + std::string(name) + "' must be a string");
    return std::string(v.as_string());
}

// Booleans as JSON booleans, and as the strings "True"/"False" that Entra ID sends (INTEROP E5).
bool boolean_of(const json::value& v, std::string_view name) {
    if (v.is_bool()) return v.as_bool();
    if (v.is_string()) {
        if (iequals(v.as_string(), "true")) return true;
        if (iequals(v.as_string(), "false")) return false;
    }
    throw bad_request("invalidValue", "'" + std::string(name) + "' must be a boolean");
}

std::vector<schema::multi_value> multi_values_of(const json::value& v, std::string_view name) {
    std::vector<schema::multi_value> out;
    if (v.is_null()) return out;
    if (!v.is_array())
        throw bad_request("invalidSyntax", "'" + std::string(name) + "' must be an array of objects");
    bool seen_primary = false;
    for (const auto& item : v.as_array()) {
        if (!item.is_object())
            throw bad_request("invalidSyntax", "each value of '" + std::string(name) + "' must be an object");
        schema::multi_value mv;
        for (const auto& kv : item.as_object()) {
            const std::string sub = std::string(name) + "." + std::string(kv.key());
            if (iequals(kv.key(), "value")) mv.value = string_of(kv.value(), sub);
            else if (iequals(kv.key(), "type")) mv.type = string_of(kv.value(), sub);
            else if (iequals(kv.key(), "display")) mv.display = string_of(kv.value(), sub);
            else if (iequals(kv.key(), "primary")) mv.primary = boolean_of(kv.value(), sub);
            else throw bad_request("invalidSyntax", "unknown attribute '" + sub + "' (known: value, type, display, primary)");
        }
        if (mv.value.empty()) throw bad_request("invalidValue", "each value of '" + std::string(name) + "' needs a 'value'");
        // RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once.
        if (mv.primary && seen_primary)
            throw bad_request("invalidValue", "only one value of '" + std::string(name) + "' may be primary");
        seen_primary = seen_primary || mv.primary;
        out.push_back(std::move(mv));
    }
    return out;
}

json::array multi_values_to_json(const std::vector<schema::multi_value>& values) {
    json::array out;
    for (const auto& v : values) {
        json::object o{{"value", v.value}};
        if (!v.type.empty()) o["type"] = v.type;
        if (!v.display.empty()) o["display"] = v.display;
        o["primary"] = v.primary;
        out.push_back(std::move(o));
    }
    return out;
}

// Reads the enterprise extension into `extension` (department goes to the user itself).
void read_enterprise(const json::value& v, schema::user& u, json::object& extension) {
    if (v.is_null()) return;
    if (!v.is_object()) throw bad_request("invalidSyntax", "'" + std::string(enterprise_user_urn) + "' must be an object");
    for (const auto& kv : v.as_object()) {
        const std::string_view key = kv.key();
        std::string_view canonical;
        for (auto a : enterprise_attributes)
            if (iequals(key, a)) canonical = a;
        if (canonical.empty())
            throw bad_request("invalidSyntax", "unknown enterprise attribute '" + std::string(key) + "'");
        if (canonical == "department") {
            u.department = string_of(kv.value(), key);
        } else if (canonical == "manager") {
            // Entra ID may send the manager as a bare id string instead of {"value": id} (INTEROP E11).
            if (kv.value().is_null()) continue;
            json::object manager;
            if (kv.value().is_string()) {
                manager["value"] = kv.value().as_string();
            } else if (kv.value().is_object()) {
                for (const auto& m : kv.value().as_object()) {
                    if (iequals(m.key(), "value")) manager["value"] = string_of(m.value(), "manager.value");
                    else if (iequals(m.key(), "displayName")) manager["displayName"] = string_of(m.value(), "manager.displayName");
                    else if (iequals(m.key(), "$ref")) manager["$ref"] = string_of(m.value(), "manager.$ref");
                    else throw bad_request("invalidSyntax", "unknown attribute 'manager." + std::string(m.key()) + "'");
                }
            } else {
                throw bad_request("invalidValue", "'manager' must be an object with a 'value'");
            }
            if (!manager.empty() && manager.contains("value") && !manager.at("value").as_string().empty())
                extension["manager"] = std::move(manager);
        } else {
            const auto s = string_of(kv.value(), key);
            if (!s.empty()) extension[canonical] = s;
        }
    }
}

// One value of a configured extension attribute, checked against its declared type.
json::value extension_scalar(const attribute_definition& a, const json::value& v, const std::string& where) {
    const auto wrong = [&](const char* what) { return bad_request("invalidValue", "'" + where + "' must be " + what); };
    switch (a.type) {
        case attribute_type::string:
        case attribute_type::reference:
        case attribute_type::binary:
            if (!v.is_string()) throw wrong("a string");
            return v;
        case attribute_type::boolean: return boolean_of(v, where);
        case attribute_type::integer:
            if (!v.is_int64()) throw wrong("an integer");
            return v;
        case attribute_type::decimal:
            if (!v.is_number()) throw wrong("a number");
            return v;
        case attribute_type::date_time: {
            const auto t = v.is_string() ? core::parse_timestamp(v.as_string()) : std::nullopt;
            if (!t) throw wrong("a dateTime such as 2026-01-31T12:00:00Z");
            // Stored in one form, so that filters compare dateTimes as the text they are kept in.
            return json::value(core::format_timestamp(*t));
        }
        case attribute_type::complex: break;
    }
    throw wrong("a simple value");
}

// Reads a configured extension's object into `out`, keeping immutable values from `previous`.
void read_custom_extension(const schema_definition& def, const json::value& v, const json::object* previous,
                           json::object& out) {
    if (v.is_null()) return;
    if (!v.is_object()) throw bad_request("invalidSyntax", "'" + def.id + "' must be an object");
    for (const auto& kv : v.as_object()) {
        const attribute_definition* a = nullptr;
        for (const auto& candidate : def.attributes)
            if (iequals(candidate.name, kv.key())) a = &candidate;
        const std::string where = def.id + ":" + std::string(kv.key());
        if (!a) throw bad_request("invalidSyntax", "unknown attribute '" + where + "'");
        if (a->mutability == mutability::read_only || kv.value().is_null()) continue;
        json::value value;
        if (a->multi_valued) {
            if (!kv.value().is_array()) throw bad_request("invalidValue", "'" + where + "' must be an array");
            json::array values;
            for (const auto& item : kv.value().as_array()) values.push_back(extension_scalar(*a, item, where));
            value = std::move(values);
        } else {
            value = extension_scalar(*a, kv.value(), where);
        }
        // RFC 7643 §2.2: an immutable attribute may be set once, then never changed.
        if (a->mutability == mutability::immutable && previous)
            if (const auto* old = previous->if_contains(a->name); old && *old != value)
                throw bad_request("mutability", "'" + where + "' is immutable");
        out[a->name] = std::move(value);
    }
    for (const auto& a : def.attributes)
        if (a.required && a.mutability != mutability::read_only && !out.contains(a.name))
            throw bad_request("invalidValue", "'" + def.id + ":" + a.name + "' is required");
}

}  // namespace

const extension_registry& no_extensions() {
    static const extension_registry none;
    return none;
}

std::string etag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::optional<std::int64_t> parse_etag(std::string_view h) {
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
    if (h == "*") return -1;
    if (h.size() >= 2 && (h.substr(0, 2) == "W/" || h.substr(0, 2) == "w/")) h.remove_prefix(2);
    if (h.size() < 3 || h.front() != '"' || h.back() != '"') return std::nullopt;
    h = h.substr(1, h.size() - 2);
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(h.data(), h.data() + h.size(), v);
    if (ec != std::errc{} || ptr != h.data() + h.size()) return std::nullopt;
    return v;
}

json::object user_to_json(const schema::user& u, const std::string& location, const extension_registry& registry) {
    json::object extensions;
    if (!u.extensions_json.empty()) {
        auto parsed = json::parse(u.extensions_json);
        if (parsed.is_object()) extensions = std::move(parsed.as_object());
    }
    json::object enterprise;
    if (auto* e = extensions.if_contains(enterprise_user_urn); e && e->is_object()) enterprise = e->as_object();
    if (!u.department.empty()) enterprise["department"] = u.department;

    json::array schemas{user_schema_urn};
    if (!enterprise.empty()) schemas.push_back(json::string(enterprise_user_urn));
    json::object o{{"schemas", std::move(schemas)}, {"id", u.id}};
    if (!u.external_id.empty()) o["externalId"] = u.external_id;
    o["userName"] = u.user_name;
    json::object name;
    const std::string* parts[] = {&u.name.formatted,   &u.name.family_name,      &u.name.given_name,
                                  &u.name.middle_name, &u.name.honorific_prefix, &u.name.honorific_suffix};
    for (std::size_t i = 0; i < 6; ++i)
        if (!parts[i]->empty()) name[name_parts[i]] = *parts[i];
    if (!name.empty()) o["name"] = std::move(name);
    const std::pair<const char*, const std::string*> simple[] = {
        {"displayName", &u.display_name}, {"nickName", &u.nick_name},   {"profileUrl", &u.profile_url},
        {"title", &u.title},              {"userType", &u.user_type},   {"preferredLanguage", &u.preferred_language},
        {"locale", &u.locale},            {"timezone", &u.timezone}};
    for (const auto& [key, value] : simple)
        if (!value->empty()) o[key] = *value;
    o["active"] = u.active;
    if (!u.emails.empty()) o["emails"] = multi_values_to_json(u.emails);
    if (!u.phone_numbers.empty()) o["phoneNumbers"] = multi_values_to_json(u.phone_numbers);
    if (!u.groups.empty()) {
        // RFC 7643 §4.1.2: read-only, "direct" memberships; $ref points at the Group.
        const auto users_at = location.rfind("/Users/");
        const std::string base = users_at == std::string::npos ? std::string() : location.substr(0, users_at);
        json::array groups;
        for (const auto& g : u.groups)
            groups.push_back(json::object{
                {"value", g.id}, {"display", g.display}, {"type", "direct"}, {"$ref", base + "/Groups/" + g.id}});
        o["groups"] = std::move(groups);
    }
    if (auto* kept = extensions.if_contains(user_schema_urn); kept && kept->is_object())
        for (const auto& kv : kept->as_object()) o[kv.key()] = kv.value();
    if (!enterprise.empty()) o[enterprise_user_urn] = std::move(enterprise);
    for (const auto& def : registry.user_extensions) {
        const auto* stored = extensions.if_contains(def.id);
        if (!stored || !stored->is_object()) continue;
        json::object shown;
        for (const auto& a : def.attributes)
            if (a.returned != returned::never && a.mutability != mutability::write_only)
                if (const auto* v = stored->as_object().if_contains(a.name)) shown[a.name] = *v;
        if (shown.empty()) continue;
        o[def.id] = std::move(shown);
        o["schemas"].as_array().push_back(json::string(def.id));
    }
    o["meta"] = json::object{{"resourceType", "User"},
                             {"created", core::format_timestamp(u.created)},
                             {"lastModified", core::format_timestamp(u.updated)},
                             {"location", location},
                             {"version", etag(u.version)}};
    return o;
}

void user_from_json(const json::object& body, schema::user& u, const extension_registry& registry) {
    // RFC 7643 §3: "schemas" is required and must name the core User schema.
    const auto* schemas = find_member(body, "schemas");
    if (!schemas || !schemas->is_array())
        throw bad_request("invalidSyntax", "'schemas' is required and must list \"" + std::string(user_schema_urn) + "\"");
    bool has_core = false;
    for (const auto& s : schemas->as_array()) {
        if (!s.is_string()) throw bad_request("invalidSyntax", "'schemas' must be an array of strings");
        if (iequals(s.as_string(), user_schema_urn)) has_core = true;
        else if (!iequals(s.as_string(), enterprise_user_urn) && !registry.find(s.as_string()))
            throw bad_request("invalidValue", "unsupported schema '" + std::string(s.as_string()) +
                                                  "' (supported: core User and the enterprise User extension)");
    }
    if (!has_core) throw bad_request("invalidValue", "'schemas' must include \"" + std::string(user_schema_urn) + "\"");

    schema::user next;
    next.id = u.id;
    next.organization_id = u.organization_id;
    next.status = u.status;
    next.created = u.created;
    next.updated = u.updated;
    next.last_login = u.last_login;
    next.version = u.version;
    json::object kept, enterprise, custom;
    json::object previous_extensions;
    if (!u.extensions_json.empty())
        if (auto parsed = json::parse(u.extensions_json); parsed.is_object()) previous_extensions = std::move(parsed.as_object());
    bool user_name_seen = false;
    for (const auto& kv : body) {
        const std::string_view key = kv.key();
        const json::value& v = kv.value();
        const auto is = [&](std::string_view name) { return iequals(key, name); };
        if (is("schemas") || is("id") || is("meta") || is("groups")) continue;  // read-only (RFC 7643 §2.2)
        if (is("password")) continue;  // write-only; idgate does not store IdP passwords (INTEROP O4)
        if (is("userName")) {
            next.user_name = string_of(v, key);
            user_name_seen = true;
        } else if (is("externalId")) {
            next.external_id = string_of(v, key);
        } else if (is("name")) {
            if (v.is_null()) continue;
            if (!v.is_object()) throw bad_request("invalidSyntax", "'name' must be an object");
            std::string* parts[] = {&next.name.formatted,   &next.name.family_name,      &next.name.given_name,
                                    &next.name.middle_name, &next.name.honorific_prefix, &next.name.honorific_suffix};
            for (const auto& p : v.as_object()) {
                bool known = false;
                for (std::size_t i = 0; i < 6; ++i)
                    if (iequals(p.key(), name_parts[i])) {
                        *parts[i] = string_of(p.value(), "name." + std::string(p.key()));
                        known = true;
                    }
                if (!known) throw bad_request("invalidSyntax", "unknown attribute 'name." + std::string(p.key()) + "'");
            }
        } else if (is("displayName")) next.display_name = string_of(v, key);
        else if (is("nickName")) next.nick_name = string_of(v, key);
        else if (is("profileUrl")) next.profile_url = string_of(v, key);
        else if (is("title")) next.title = string_of(v, key);
        else if (is("userType")) next.user_type = string_of(v, key);
        else if (is("preferredLanguage")) next.preferred_language = string_of(v, key);
        else if (is("locale")) next.locale = string_of(v, key);
        else if (is("timezone")) next.timezone = string_of(v, key);
        else if (is("active")) next.active = v.is_null() ? true : boolean_of(v, key);
        else if (is("emails")) next.emails = multi_values_of(v, "emails");
        else if (is("phoneNumbers")) next.phone_numbers = multi_values_of(v, "phoneNumbers");
        else if (is(enterprise_user_urn)) read_enterprise(v, next, enterprise);
        else if (const auto* def = registry.find(key)) {
            json::object values;
            const auto* previous = previous_extensions.if_contains(def->id);
            read_custom_extension(*def, v, previous && previous->is_object() ? &previous->as_object() : nullptr, values);
            if (!values.empty()) custom[def->id] = std::move(values);
        } else {
            std::string_view canonical;
            for (auto a : kept_core_attributes)
                if (is(a)) canonical = a;
            if (canonical.empty())
                throw bad_request("invalidSyntax", "unknown attribute '" + std::string(key) + "'");
            if (v.is_null()) continue;
            if (!v.is_array()) throw bad_request("invalidSyntax", "'" + std::string(key) + "' must be an array");
            for (const auto& item : v.as_array())
                if (!item.is_object())
                    throw bad_request("invalidSyntax", "each value of '" + std::string(key) + "' must be an object");
            if (!v.as_array().empty()) kept[canonical] = v;
        }
    }
    // RFC 7643 §4.1.1: userName is required, and must not be empty.
    if (!user_name_seen || next.user_name.empty())
        throw bad_request("invalidValue", "'userName' is required and must not be empty");
    if (next.user_name.size() > 256) throw bad_request("invalidValue", "'userName' is longer than 256 characters");
    json::object extensions;
    if (!kept.empty()) extensions[user_schema_urn] = std::move(kept);
    if (!enterprise.empty()) extensions[enterprise_user_urn] = std::move(enterprise);
    for (auto& kv : custom) extensions[kv.key()] = std::move(kv.value());
    next.extensions_json = json::serialize(extensions);
    u = std::move(next);
}

projection projection_from(const core::request& req) {
    projection p;
    const auto split = [](std::string_view text, std::vector<std::string>& out) {
        while (!text.empty()) {
            const auto comma = text.find(',');
            auto item = text.substr(0, comma);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (!item.empty()) out.emplace_back(item);
            if (comma == std::string_view::npos) break;
            text.remove_prefix(comma + 1);
        }
    };
    if (auto a = req.query_param("attributes")) split(*a, p.attributes);
    if (auto e = req.query_param("excludedAttributes")) split(*e, p.excluded);
    return p;
}

namespace {

// Splits "urn:...:User:name.givenName" into (urn, attribute, sub).
struct name_ref {
    std::string urn, attribute, sub;
};

name_ref split_name(std::string_view text) {
    name_ref r;
    std::string_view rest = text;
    if (text.size() > 4 && iequals(text.substr(0, 4), "urn:")) {
        // A bare extension URN names the whole extension object.
        if (iequals(text, enterprise_user_urn)) {
            r.attribute = std::string(text);
            return r;
        }
        const auto colon = text.rfind(':');
        r.urn = std::string(text.substr(0, colon));
        rest = text.substr(colon + 1);
    }
    const auto dot = rest.find('.');
    r.attribute = std::string(rest.substr(0, dot));
    if (dot != std::string_view::npos) r.sub = std::string(rest.substr(dot + 1));
    return r;
}

// The object a name refers into: the resource, or an extension object for an extension URN.
json::object* container_for(json::object& resource, const name_ref& r) {
    if (r.urn.empty() || iequals(r.urn, user_schema_urn)) return &resource;
    if (auto* ext = find_member(resource, r.urn); ext && ext->is_object()) return &ext->as_object();
    return nullptr;
}

void erase_member(json::object& o, std::string_view name) {
    for (auto it = o.begin(); it != o.end(); ++it)
        if (iequals(it->key(), name)) {
            o.erase(it);
            return;
        }
}

}  // namespace

void apply_projection(json::object& resource, const projection& p) {
    if (!p.attributes.empty()) {
        // Keep only what was asked for; id and schemas are always returned (RFC 7643 §7 "always").
        json::object kept;
        for (const auto& name : p.attributes) {
            const auto r = split_name(name);
            json::object* from = container_for(resource, r);
            if (!from) continue;
            const json::value* v = find_member(*from, r.attribute);
            if (!v) continue;
            json::object* into = &kept;
            if (from != &resource) {
                auto& ext = kept[r.urn];
                if (!ext.is_object()) ext = json::object{};
                into = &ext.as_object();
            }
            // Use the stored key's spelling.
            std::string key;
            for (const auto& kv : *from)
                if (iequals(kv.key(), r.attribute)) key = kv.key();
            if (r.sub.empty()) {
                (*into)[key] = *v;
            } else if (v->is_object()) {
                if (const auto* s = find_member(v->as_object(), r.sub)) {
                    auto& target = (*into)[key];
                    if (!target.is_object()) target = json::object{};
                    for (const auto& kv : v->as_object())
                        if (iequals(kv.key(), r.sub)) target.as_object()[kv.key()] = *s;
                }
            } else if (v->is_array()) {
                json::array subs;
                for (const auto& item : v->as_array())
                    if (item.is_object())
                        if (const auto* s = find_member(item.as_object(), r.sub)) {
                            json::object one;
                            for (const auto& kv : item.as_object())
                                if (iequals(kv.key(), r.sub)) one[kv.key()] = *s;
                            subs.push_back(std::move(one));
                        }
                (*into)[key] = std::move(subs);
            }
        }
        kept["schemas"] = resource["schemas"];
        kept["id"] = resource["id"];
        resource = std::move(kept);
        return;
    }
    for (const auto& name : p.excluded) {
        const auto r = split_name(name);
        if (iequals(r.attribute, "id") || iequals(r.attribute, "schemas")) continue;  // always returned
        json::object* from = container_for(resource, r);
        if (!from) continue;
        if (r.sub.empty()) {
            erase_member(*from, r.attribute);
        } else if (auto* v = find_member(*from, r.attribute)) {
            if (v->is_object()) erase_member(v->as_object(), r.sub);
            if (v->is_array())
                for (auto& item : v->as_array())
                    if (item.is_object()) erase_member(item.as_object(), r.sub);
        }
    }
}

}  // namespace idgate::scim
