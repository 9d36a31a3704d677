// SPDX-License-Identifier: AGPL-3.0-or-later
// /Groups (RFC 7643 §4.2, RFC 7644 §3). Membership PATCHes are translated into set operations on
// membership rows, never into "read all members, edit, write all members": Okta and Entra ID send one
// membership delta per request, and groups can have 100,000 members.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "core/json_body.hpp"
#include "scim/filter_parser.hpp"
#include "scim/service.hpp"
#include "scim/user_codec.hpp"
#include "http_helpers.hpp"

namespace idgate::scim {
namespace json = boost::json;
using namespace detail;
using change = schema::group_change;

namespace {

constexpr std::string_view group_urn = "urn:ietf:params:scim:schemas:core:2.0:Group";
// Entra ID lists this in the schemas of the groups it creates (INTEROP E8); it carries no attributes.
constexpr std::string_view entra_group_urn = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

std::string location(const context& c, const std::string& id) { return c.base_url + "/Groups/" + id; }

core::http_error not_found(const std::string& id) {
    return core::http_error(404, "not_found", "no Group with id '" + id + "' in this organization");
}

core::http_error name_taken(const std::string& name) {
    return core::http_error(409, "uniqueness",
                            "a group named '" + name + "' already exists in this organization (displayName is unique)")
        .with_scim_type("uniqueness");
}

core::http_error unknown_member() {
    return bad_request("invalidValue", "a member 'value' is not the id of a User in this organization");
}

bool excludes_members(const projection& p) {
    for (const auto& e : p.excluded)
        if (iequals(e, "members")) return true;
    if (p.attributes.empty()) return false;
    for (const auto& a : p.attributes)
        if (iequals(a, "members") || iequals(a.substr(0, 8), "members.")) return false;
    return true;
}

json::object group_to_json(const context& c, const schema::group& g,
                           const std::vector<schema::group_member>* members) {
    json::object o{{"schemas", json::array{group_urn}}, {"id", g.id}, {"displayName", g.display_name}};
    if (!g.external_id.empty()) o["externalId"] = g.external_id;
    if (members) {
        json::array list;
        for (const auto& m : *members)
            list.push_back(json::object{
                {"value", m.user_id}, {"display", m.display}, {"type", "User"}, {"$ref", c.base_url + "/Users/" + m.user_id}});
        o["members"] = std::move(list);
    }
    o["meta"] = json::object{{"resourceType", "Group"},
                             {"created", core::format_timestamp(g.created)},
                             {"lastModified", core::format_timestamp(g.updated)},
                             {"location", location(c, g.id)},
                             {"version", etag(g.version)}};
    return o;
}

// Membership changes queue the bound members' re-evaluation; the token's connection works out the
// members it named now (a rename's or a replacement's other members are left to the background).
void settle(const context& c, const std::vector<change>& changes) {
    if (!c.gate) return;
    std::vector<std::string> users;
    for (const auto& ch : changes) users.insert(users.end(), ch.user_ids.begin(), ch.user_ids.end());
    if (users.size() > 1000) users.resize(1000);
    c.gate->settle(users);
}

core::response group_response(const context& c, int status, const schema::group& g, const projection& p) {
    std::vector<schema::group_member> members;
    const bool with_members = !excludes_members(p);
    if (with_members) members = c.db.group_members(c.organization.id, g.id);
    auto body = group_to_json(c, g, with_members ? &members : nullptr);
    apply_projection(body, p);
    auto r = scim_json(status, body);
    r.headers.emplace_back("ETag", etag(g.version));
    if (status == 201) r.headers.emplace_back("Location", location(c, g.id));
    return r;
}

// members: [{"value": id, "display": ..., "$ref": ..., "type": "User"}] -> ids. Okta omits "type"
// (INTEROP O10); Entra sends "$ref": null (E9).
std::vector<std::string> member_ids(const json::value& v) {
    std::vector<std::string> ids;
    if (v.is_null()) return ids;
    const auto one = [&ids](const json::value& item) {
        if (!item.is_object()) throw bad_request("invalidSyntax", "each member must be an object with a 'value'");
        const auto* value = find_member(item.as_object(), "value");
        if (!value || !value->is_string() || value->as_string().empty())
            throw bad_request("invalidValue", "each member needs a 'value': the id of a User");
        if (const auto* type = find_member(item.as_object(), "type"); type && type->is_string() && !iequals(type->as_string(), "User"))
            throw bad_request("invalidValue", "only Users can be members (nested groups are not supported)");
        for (const auto& kv : item.as_object())
            if (!iequals(kv.key(), "value") && !iequals(kv.key(), "display") && !iequals(kv.key(), "$ref") &&
                !iequals(kv.key(), "type"))
                throw bad_request("invalidSyntax", "unknown member attribute '" + std::string(kv.key()) + "'");
        ids.emplace_back(value->as_string());
    };
    if (v.is_array())
        for (const auto& item : v.as_array()) one(item);
    else
        one(v);
    return ids;
}

struct group_body {
    std::string display_name;
    std::string external_id;
    std::vector<std::string> members;
};

group_body parse_group(const json::object& body) {
    const auto* schemas = find_member(body, "schemas");
    if (!schemas || !schemas->is_array())
        throw bad_request("invalidSyntax", "'schemas' is required and must list \"" + std::string(group_urn) + "\"");
    bool has_core = false;
    for (const auto& s : schemas->as_array()) {
        if (!s.is_string()) throw bad_request("invalidSyntax", "'schemas' must be an array of strings");
        if (iequals(s.as_string(), group_urn)) has_core = true;
        else if (!iequals(s.as_string(), entra_group_urn))
            throw bad_request("invalidValue", "unsupported schema '" + std::string(s.as_string()) + "'");
    }
    if (!has_core) throw bad_request("invalidValue", "'schemas' must include \"" + std::string(group_urn) + "\"");
    group_body g;
    for (const auto& kv : body) {
        const auto key = kv.key();
        const auto& v = kv.value();
        if (iequals(key, "schemas") || iequals(key, "id") || iequals(key, "meta")) continue;
        if (iequals(key, "displayName")) {
            if (!v.is_string()) throw bad_request("invalidValue", "'displayName' must be a string");
            g.display_name = std::string(v.as_string());
        } else if (iequals(key, "externalId")) {
            if (!v.is_string() && !v.is_null()) throw bad_request("invalidValue", "'externalId' must be a string");
            if (v.is_string()) g.external_id = std::string(v.as_string());
        } else if (iequals(key, "members")) {
            g.members = member_ids(v);
        } else {
            throw bad_request("invalidSyntax", "unknown attribute '" + std::string(key) + "'");
        }
    }
    if (g.display_name.empty()) throw bad_request("invalidValue", "'displayName' is required and must not be empty");
    return g;
}

// A value filter on members that names member ids: value eq "id" (or several joined by "or").
bool member_ids_of_filter(const schema::filter& f, std::vector<std::string>& ids) {
    if (const auto* c = std::get_if<schema::comparison>(&f.node)) {
        if (!iequals(c->path.attribute, "value") || c->op != schema::compare_op::eq ||
            c->value.type != schema::filter_value::kind::string)
            return false;
        ids.push_back(c->value.text);
        return true;
    }
    if (const auto* l = std::get_if<schema::logical>(&f.node))
        return l->op == schema::logical::kind::or_ && member_ids_of_filter(*l->left, ids) &&
               member_ids_of_filter(*l->right, ids);
    return false;
}

std::vector<change> patch_changes(const json::object& request, const schema::group& current) {
    const auto* schemas = find_member(request, "schemas");
    bool ok = false;
    if (schemas && schemas->is_array())
        for (const auto& s : schemas->as_array()) ok = ok || (s.is_string() && iequals(s.as_string(), patch_op_urn));
    if (!ok) throw bad_request("invalidSyntax", "'schemas' must be [\"" + std::string(patch_op_urn) + "\"]");
    const auto* ops = find_member(request, "Operations");
    if (!ops || !ops->is_array() || ops->as_array().empty())
        throw bad_request("invalidSyntax", "'Operations' must be a non-empty array");

    std::vector<change> out;
    std::size_t index = 0;
    for (const auto& item : ops->as_array()) {
        const auto fail = [index](const std::string& type, const std::string& detail) {
            return bad_request(type, "Operations[" + std::to_string(index) + "]: " + detail);
        };
        if (!item.is_object()) throw fail("invalidSyntax", "each operation must be an object");
        const auto& o = item.as_object();
        const auto* op_value = find_member(o, "op");
        if (!op_value || !op_value->is_string()) throw fail("invalidSyntax", "\"op\" is required");
        const std::string_view op = op_value->as_string();
        const bool add = iequals(op, "add"), replace = iequals(op, "replace"), remove = iequals(op, "remove");
        if (!add && !replace && !remove) throw fail("invalidSyntax", "unknown op '" + std::string(op) + "'");
        const auto* path_value = find_member(o, "path");
        const auto* value = find_member(o, "value");
        for (const auto& member : o)
            if (!iequals(member.key(), "op") && !iequals(member.key(), "path") && !iequals(member.key(), "value"))
                throw fail("invalidSyntax", "unknown member '" + std::string(member.key()) + "'");

        // The change for one attribute path.
        const auto apply = [&](std::string_view path_text, const json::value* v) {
            const auto parsed = parse_patch_path(path_text);
            if (!parsed) throw fail("invalidPath", "'" + std::string(path_text) + "': " + parsed.error.describe());
            const auto& p = *parsed.path;
            if (!p.path.schema_urn.empty() && !iequals(p.path.schema_urn, group_urn))
                throw fail("invalidPath", "no attribute '" + std::string(path_text) + "'");
            if (iequals(p.path.attribute, "members") && p.path.sub_attribute.empty() && p.sub_attribute_after.empty()) {
                if (p.value_filter) {
                    // remove members[value eq "id"] (Okta, Entra with the compliance flag).
                    std::vector<std::string> ids;
                    if (!remove || !member_ids_of_filter(*p.value_filter, ids))
                        throw fail("invalidPath", "only \"remove\" with members[value eq \"<id>\"] is supported on a filtered members path");
                    out.push_back({change::kind::remove_members, {}, std::move(ids)});
                } else if (remove) {
                    // With a value list: only those (Entra without the flag, E9); without: all (RFC 7644 §3.5.2.2).
                    if (v && !v->is_null()) out.push_back({change::kind::remove_members, {}, member_ids(*v)});
                    else out.push_back({change::kind::remove_all_members, {}, {}});
                } else {
                    if (!v) throw fail("invalidValue", "\"value\" is required");
                    out.push_back({add ? change::kind::add_members : change::kind::replace_members, {}, member_ids(*v)});
                }
                return;
            }
            if (p.value_filter || !p.path.sub_attribute.empty())
                throw fail("invalidPath", "no attribute '" + std::string(path_text) + "'");
            if (iequals(p.path.attribute, "displayName")) {
                if (remove) throw fail("mutability", "'displayName' is required and cannot be removed");
                if (!v || !v->is_string() || v->as_string().empty())
                    throw fail("invalidValue", "'displayName' must be a non-empty string");
                out.push_back({change::kind::rename, std::string(v->as_string()), {}});
            } else if (iequals(p.path.attribute, "externalId")) {
                if (remove) out.push_back({change::kind::set_external_id, {}, {}});
                else if (!v || !v->is_string()) throw fail("invalidValue", "'externalId' must be a string");
                else out.push_back({change::kind::set_external_id, std::string(v->as_string()), {}});
            } else if (iequals(p.path.attribute, "id")) {
                // Okta repeats the id in every rename (O9); the same id is no change, another is refused.
                if (remove || !v || !v->is_string() || v->as_string() != current.id)
                    throw fail("mutability", "'id' is read-only");
            } else {
                throw fail("invalidPath", "no attribute '" + std::string(path_text) + "'");
            }
        };

        if (!path_value || (path_value->is_string() && path_value->as_string().empty())) {
            if (remove) throw fail("noTarget", "\"remove\" needs a \"path\"");
            if (!value || !value->is_object()) throw fail("invalidValue", "without a \"path\", \"value\" must be an object");
            for (const auto& kv : value->as_object()) apply(kv.key(), &kv.value());
        } else {
            if (!path_value->is_string()) throw fail("invalidPath", "\"path\" must be a string");
            apply(path_value->as_string(), value);
        }
        ++index;
    }
    return out;
}

schema::group load(const context& c, const std::string& id) {
    auto g = c.db.get_group(c.organization.id, id);
    if (!g) throw not_found(id);
    return *g;
}

schema::group apply_changes(const context& c, const std::string& id, const std::vector<change>& changes,
                            std::optional<std::int64_t> expected, const std::string& new_name) {
    auto r = c.db.change_group(c.organization.id, id, changes, expected, c.actor);
    if (r) return *r;
    if (r.error() == store::errc::already_exists) throw name_taken(new_name);
    if (r.error() == store::errc::version_mismatch)
        throw core::http_error(412, "precondition_failed", "the group changed since the version given in If-Match");
    if (r.error() == store::errc::not_found) {
        if (!c.db.get_group(c.organization.id, id)) throw not_found(id);
        throw unknown_member();
    }
    throw core::http_error(500, "internal_error", "could not update the group", r.error().message());
}

}  // namespace

namespace groups {

core::response list(const context& c, const core::request& req) {
    store::group_query q;
    q.organization_id = c.organization.id;
    if (auto f = req.query_param("filter"); f && !f->empty()) {
        auto parsed = parse_filter(*f);
        if (!parsed) throw bad_request("invalidFilter", "invalid filter: " + parsed.error.describe());
        q.filter = parsed.filter;
    }
    const auto window = page_of(integer_param(req, "startIndex", 1), integer_param(req, "count", default_page_size));
    const std::int64_t start = window.start_index;
    q.offset = window.offset;
    q.limit = window.limit;
    if (auto why = store::validate(q)) throw bad_request("invalidFilter", *why);
    auto page = c.db.find_groups(q);
    if (!page) throw core::http_error(500, "internal_error", "the query failed", page.error().message());
    const auto fields = projection_from(req);
    const bool with_members = !excludes_members(fields);
    json::array resources;
    for (const auto& g : page->first) {
        std::vector<schema::group_member> members;
        if (with_members) members = c.db.group_members(c.organization.id, g.id);
        auto body = group_to_json(c, g, with_members ? &members : nullptr);
        apply_projection(body, fields);
        resources.push_back(std::move(body));
    }
    return scim_json(200, json::object{{"schemas", json::array{list_response_urn}},
                                       {"totalResults", page->second},
                                       {"startIndex", start},
                                       {"itemsPerPage", static_cast<std::int64_t>(resources.size())},
                                       {"Resources", std::move(resources)}});
}

core::response create(const context& c, const core::request& req) {
    const auto body = parse_group(body_object(req));
    schema::group g;
    g.organization_id = c.organization.id;
    g.display_name = body.display_name;
    g.external_id = body.external_id;
    auto created = c.db.create_group(g, body.members, c.actor);
    if (!created) {
        if (created.error() == store::errc::already_exists) throw name_taken(g.display_name);
        if (created.error() == store::errc::not_found) throw unknown_member();
        throw core::http_error(500, "internal_error", "could not create the group", created.error().message());
    }
    settle(c, {{change::kind::add_members, {}, body.members}});
    return group_response(c, 201, *created, projection_from(req));
}

core::response get(const context& c, const core::request& req) {
    const auto g = load(c, std::string(req.param("id")));
    if (auto unchanged = not_modified(req, g.version)) return *unchanged;
    return group_response(c, 200, g, projection_from(req));
}

core::response replace(const context& c, const core::request& req) {
    const std::string id{req.param("id")};
    const auto body = parse_group(body_object(req));
    // PUT replaces: the members listed become the membership (INTEROP O13: AIW apps push it this way).
    const std::vector<change> changes{{change::kind::rename, body.display_name, {}},
                                      {change::kind::set_external_id, body.external_id, {}},
                                      {change::kind::replace_members, {}, body.members}};
    const auto g = apply_changes(c, id, changes, if_match(req), body.display_name);
    settle(c, changes);
    return group_response(c, 200, g, projection_from(req));
}

core::response patch(const context& c, const core::request& req) {
    const std::string id{req.param("id")};
    const auto body = body_object(req);
    const auto current = load(c, id);
    const auto changes = patch_changes(body, current);
    std::string new_name = current.display_name;
    for (const auto& ch : changes)
        if (ch.type == change::kind::rename) new_name = ch.text;
    const auto g = apply_changes(c, id, changes, if_match(req), new_name);
    settle(c, changes);
    // A membership PATCH answers 204: serialising 100,000 members back helps nobody (INTEROP E8).
    // A client that asks for attributes gets them.
    const auto fields = projection_from(req);
    if (fields.empty()) {
        auto r = core::response::no_content();
        r.headers.emplace_back("ETag", etag(g.version));
        return r;
    }
    return group_response(c, 200, g, fields);
}

core::response remove(const context& c, const core::request& req) {
    const std::string id{req.param("id")};
    // The version check happens in the deleting transaction: a change between a check here and the
    // delete cannot slip through (RFC 7644 §3.14).
    auto r = c.db.delete_group(c.organization.id, id, if_match(req), c.actor);
    if (!r) {
        if (r.error() == store::errc::not_found) throw not_found(id);
        if (r.error() == store::errc::version_mismatch) throw precondition_failed(load(c, id).version);
        throw core::http_error(500, "internal_error", "could not delete the group", r.error().message());
    }
    settle(c, {});
    return core::response::no_content();
}

}  // namespace groups
}  // namespace idgate::scim
