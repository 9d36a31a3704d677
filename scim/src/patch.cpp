// SPDX-License-Identifier: AGPL-3.0-or-later
#include "scim/patch.hpp"

#include <cstdlib>

#include "scim/filter_parser.hpp"
#include "scim/schema_definitions.hpp"
#include "scim/user_codec.hpp"

namespace idgate::scim {
namespace json = boost::json;

const attribute_info* resource_attributes::find(std::string_view urn, std::string_view name) const {
    const std::vector<attribute_info>* list = nullptr;
    if (urn.empty() || iequals(urn, core_urn)) {
        list = &core;
    } else {
        for (const auto& [ext_urn, attrs] : extensions)
            if (iequals(urn, ext_urn)) list = &attrs;
    }
    if (!list) return nullptr;
    for (const auto& a : *list)
        if (iequals(a.name, name)) return &a;
    return nullptr;
}

namespace {

std::vector<attribute_info> infos_of(const schema_definition& d) {
    std::vector<attribute_info> out;
    for (const auto& a : d.attributes) {
        attribute_info i;
        i.name = a.name;
        i.multi_valued = a.multi_valued;
        i.complex = a.type == attribute_type::complex;
        i.read_only = a.mutability == mutability::read_only;
        for (const auto& sub : a.sub_attributes)
            if (sub.name == "value") i.case_exact_value = sub.case_exact;
        out.push_back(i);
    }
    return out;
}

}  // namespace

resource_attributes user_attributes(const extension_registry& registry) {
    // Built from the same definitions /Schemas serves. id, meta and schemas are common attributes
    // (RFC 7643 §3.1), read-only everywhere.
    static const resource_attributes built_in = [] {
        resource_attributes r;
        r.core_urn = user_schema().id;
        r.core = infos_of(user_schema());
        r.core.push_back({"id", false, false, true});
        r.core.push_back({"externalId"});
        r.core.push_back({"meta", false, true, true});
        r.core.push_back({"schemas", true, false, true});
        r.extensions.emplace_back(enterprise_user_schema().id, infos_of(enterprise_user_schema()));
        return r;
    }();
    if (registry.user_extensions.empty()) return built_in;
    resource_attributes r = built_in;
    for (const auto& def : registry.user_extensions) r.extensions.emplace_back(def.id, infos_of(def));
    return r;
}

namespace {

enum class op_kind { add, replace, remove };

// -- value filters evaluated on JSON elements ---------------------------------------------------------

bool string_compare(schema::compare_op op, std::string_view actual, std::string_view expected, bool case_exact) {
    std::string a{actual}, e{expected};
    if (!case_exact) {
        for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    switch (op) {
        case schema::compare_op::eq: return a == e;
        case schema::compare_op::ne: return a != e;
        case schema::compare_op::co: return a.find(e) != std::string::npos;
        case schema::compare_op::sw: return a.rfind(e, 0) == 0;
        case schema::compare_op::ew: return a.size() >= e.size() && a.compare(a.size() - e.size(), e.size(), e) == 0;
        case schema::compare_op::gt: return a > e;
        case schema::compare_op::ge: return a >= e;
        case schema::compare_op::lt: return a < e;
        case schema::compare_op::le: return a <= e;
        case schema::compare_op::pr: return !a.empty();
    }
    return false;
}

bool comparison_matches(const schema::comparison& c, const json::object& element, bool case_exact_value) {
    const json::value* v = find_member(element, c.path.attribute);
    using vk = schema::filter_value::kind;
    const bool absent = !v || v->is_null() || (v->is_string() && v->as_string().empty());
    if (c.op == schema::compare_op::pr) return !absent;
    if (c.value.type == vk::null) return c.op == schema::compare_op::eq ? absent : !absent;
    if (absent) return c.op == schema::compare_op::ne;
    if (c.value.type == vk::boolean) {
        bool actual = false;
        if (v->is_bool()) actual = v->as_bool();
        else if (v->is_string() && (iequals(v->as_string(), "true") || iequals(v->as_string(), "false")))
            actual = iequals(v->as_string(), "true");
        else return false;
        if (c.op == schema::compare_op::eq) return actual == c.value.boolean;
        if (c.op == schema::compare_op::ne) return actual != c.value.boolean;
        return false;
    }
    if (c.value.type == vk::number) {
        if (!v->is_number()) return false;
        const double actual = v->to_number<double>(), expected = std::strtod(c.value.text.c_str(), nullptr);
        switch (c.op) {
            case schema::compare_op::eq: return actual == expected;
            case schema::compare_op::ne: return actual != expected;
            case schema::compare_op::gt: return actual > expected;
            case schema::compare_op::ge: return actual >= expected;
            case schema::compare_op::lt: return actual < expected;
            case schema::compare_op::le: return actual <= expected;
            default: return false;
        }
    }
    if (!v->is_string()) return false;
    const bool exact = case_exact_value && iequals(c.path.attribute, "value");
    return string_compare(c.op, v->as_string(), c.value.text, exact);
}

// eq comparisons joined by "and": the element such a filter describes, for "add" to create.
bool template_of(const schema::filter& f, json::object& out) {
    if (const auto* c = std::get_if<schema::comparison>(&f.node)) {
        if (c->op != schema::compare_op::eq || !c->path.sub_attribute.empty() || !c->path.schema_urn.empty())
            return false;
        switch (c->value.type) {
            case schema::filter_value::kind::string: out[c->path.attribute] = c->value.text; return true;
            case schema::filter_value::kind::boolean: out[c->path.attribute] = c->value.boolean; return true;
            default: return false;
        }
    }
    if (const auto* l = std::get_if<schema::logical>(&f.node))
        return l->op == schema::logical::kind::and_ && template_of(*l->left, out) && template_of(*l->right, out);
    return false;
}

// -- applying one operation ---------------------------------------------------------------------------

class patcher {
public:
    patcher(json::object& resource, const resource_attributes& attrs, std::size_t index)
        : resource_(resource), attrs_(attrs), index_(index) {}

    [[noreturn]] void fail(const std::string& scim_type, const std::string& detail) const {
        throw bad_request(scim_type, "Operations[" + std::to_string(index_) + "]: " + detail);
    }

    void apply(op_kind op, const json::value* path_value, const json::value* value) {
        if (!path_value || (path_value->is_string() && path_value->as_string().empty())) {
            if (op == op_kind::remove) fail("noTarget", "\"remove\" needs a \"path\"");
            if (!value || !value->is_object())
                fail("invalidValue", "without a \"path\", \"value\" must be an object of attributes");
            for (const auto& kv : value->as_object()) {
                // An extension's URN as a key: its members are attributes of that extension.
                if (is_extension(kv.key()) && kv.value().is_object()) {
                    for (const auto& inner : kv.value().as_object())
                        apply_path(op, std::string(kv.key()) + ":" + std::string(inner.key()), &inner.value());
                } else {
                    // Keys are paths: "name.givenName", "urn:...:User:employeeNumber" (Entra E6).
                    apply_path(op, kv.key(), &kv.value());
                }
            }
            return;
        }
        if (!path_value->is_string()) fail("invalidPath", "\"path\" must be a string");
        apply_path(op, path_value->as_string(), value);
    }

private:
    bool is_extension(std::string_view key) const {
        for (const auto& [urn, attrs] : attrs_.extensions)
            if (iequals(key, urn)) return true;
        return false;
    }

    void apply_path(op_kind op, std::string_view path_text, const json::value* value) {
        const auto parsed = parse_patch_path(path_text);
        if (!parsed) fail("invalidPath", "'" + std::string(path_text) + "': " + parsed.error.describe());
        const auto& p = *parsed.path;
        const attribute_info* info = attrs_.find(p.path.schema_urn, p.path.attribute);
        if (!info) {
            // A whole extension named by its URN ("urn:...:enterprise:2.0:User" as a path).
            if (!p.path.schema_urn.empty() && is_extension(p.path.schema_urn + ":" + p.path.attribute) &&
                p.path.sub_attribute.empty() && !p.value_filter) {
                apply_extension_object(op, p.path.schema_urn + ":" + p.path.attribute, value);
                return;
            }
            fail("invalidPath", "no attribute '" + std::string(path_text) + "'");
        }
        if (info->read_only) fail("mutability", "'" + std::string(info->name) + "' is read-only");
        if (op != op_kind::remove && !value) fail("invalidValue", "\"value\" is required for add and replace");

        json::object& container = container_for(p.path.schema_urn);
        const std::string key = existing_key(container, info->name);
        const std::string sub = !p.path.sub_attribute.empty() ? p.path.sub_attribute : p.sub_attribute_after;

        if (p.value_filter) {
            if (!info->multi_valued) fail("invalidPath", "'" + key + "' is not multi-valued: it takes no [filter]");
            apply_filtered(op, container, key, *info, *p.value_filter, sub, value);
            return;
        }
        if (!sub.empty()) {
            if (!info->complex) fail("invalidPath", "'" + key + "' has no sub-attributes");
            apply_sub_attribute(op, container, key, *info, sub, value);
            return;
        }
        if (info->multi_valued) {
            apply_multi_valued(op, container, key, *info, value);
            return;
        }
        if (op == op_kind::remove) {
            erase(container, key);
        } else if (info->complex && value->is_object()) {
            // RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged.
            json::value& target = container[key];
            if (!target.is_object()) target = json::object{};
            for (const auto& kv : value->as_object()) target.as_object()[existing_key(target.as_object(), kv.key())] = kv.value();
        } else {
            container[key] = *value;  // "add" on a single-valued attribute replaces it (RFC 7644 §3.5.2.1)
        }
    }

    void apply_extension_object(op_kind op, const std::string& urn, const json::value* value) {
        if (op == op_kind::remove) {
            erase(resource_, existing_key(resource_, urn));
            return;
        }
        if (!value || !value->is_object()) fail("invalidValue", "the value for '" + urn + "' must be an object");
        for (const auto& kv : value->as_object()) apply_path(op, urn + ":" + std::string(kv.key()), &kv.value());
    }

    json::object& container_for(const std::string& urn) {
        if (urn.empty() || iequals(urn, attrs_.core_urn)) return resource_;
        json::value& ext = resource_[existing_key(resource_, urn)];
        if (!ext.is_object()) ext = json::object{};
        // Listing the extension in "schemas" keeps the representation valid (RFC 7643 §3).
        if (auto* schemas = find_member(resource_, "schemas"); schemas && schemas->is_array()) {
            bool listed = false;
            for (const auto& s : schemas->as_array()) listed = listed || (s.is_string() && iequals(s.as_string(), urn));
            if (!listed) schemas->as_array().push_back(json::string(urn));
        }
        return ext.as_object();
    }

    static std::string existing_key(const json::object& o, std::string_view canonical) {
        for (const auto& kv : o)
            if (iequals(kv.key(), canonical)) return std::string(kv.key());
        return std::string(canonical);
    }

    static void erase(json::object& o, std::string_view key) {
        auto it = o.find(key);
        if (it != o.end()) o.erase(it);
    }

    static json::array as_values(const json::value& v) {
        if (v.is_array()) return v.as_array();
        json::array one;
        one.push_back(v);
        return one;
    }

    static bool same_value(const json::value& a, const json::value& b, bool case_exact) {
        if (a.is_object() && b.is_object()) {
            const auto* va = find_member(a.as_object(), "value");
            const auto* vb = find_member(b.as_object(), "value");
            if (va && vb && va->is_string() && vb->is_string())
                return case_exact ? va->as_string() == vb->as_string() : iequals(va->as_string(), vb->as_string());
        }
        return a == b;
    }

    // RFC 7643 §2.4: at most one primary value; the one just written wins.
    static void keep_one_primary(json::array& values, const json::value* winner) {
        bool kept = false;
        for (std::size_t i = values.size(); i-- > 0;) {
            if (!values[i].is_object()) continue;
            auto* primary = find_member(values[i].as_object(), "primary");
            if (!primary) continue;
            const bool is_true = primary->is_bool() ? primary->as_bool()
                                                    : (primary->is_string() && iequals(primary->as_string(), "true"));
            if (!is_true) continue;
            if (kept && (winner == nullptr || &values[i] != winner)) *primary = false;
            kept = true;
        }
    }

    void apply_multi_valued(op_kind op, json::object& container, const std::string& key, const attribute_info& info,
                            const json::value* value) {
        json::value& current = container[key];
        if (!current.is_array()) current = json::array{};
        json::array& values = current.as_array();
        switch (op) {
            case op_kind::add: {
                for (const auto& v : as_values(*value)) {
                    bool present = false;
                    for (auto& existing : values)
                        if (same_value(existing, v, info.case_exact_value)) {
                            if (existing.is_object() && v.is_object())
                                for (const auto& kv : v.as_object()) existing.as_object()[kv.key()] = kv.value();
                            present = true;
                        }
                    if (!present) values.push_back(v);
                }
                keep_one_primary(values, values.empty() ? nullptr : &values.back());
                break;
            }
            case op_kind::replace:
                current = as_values(*value);
                keep_one_primary(current.as_array(), nullptr);
                break;
            case op_kind::remove:
                if (value && !value->is_null()) {
                    // Remove only the listed values (Entra ID's members removal, INTEROP E9).
                    const auto doomed = as_values(*value);
                    json::array kept;
                    for (auto& existing : values) {
                        bool match = false;
                        for (const auto& d : doomed) match = match || same_value(existing, d, info.case_exact_value);
                        if (!match) kept.push_back(existing);
                    }
                    values = std::move(kept);
                } else {
                    values.clear();
                }
                if (values.empty()) erase(container, key);
                break;
        }
    }

    void apply_sub_attribute(op_kind op, json::object& container, const std::string& key, const attribute_info& info,
                             const std::string& sub, const json::value* value) {
        if (info.multi_valued) {
            // emails.value without a filter applies to every value (RFC 7644 §3.5.2).
            auto* current = find_member(container, key);
            if (!current || !current->is_array()) {
                if (op == op_kind::remove) return;
                fail("noTarget", "'" + key + "' has no values to set '" + sub + "' on");
            }
            for (auto& element : current->as_array()) set_sub(op, element, sub, value);
            return;
        }
        json::value& target = container[key];
        if (!target.is_object()) {
            if (op == op_kind::remove) {
                erase(container, key);
                return;
            }
            target = json::object{};
        }
        set_sub(op, target, sub, value);
        if (target.as_object().empty()) erase(container, key);
    }

    static void set_sub(op_kind op, json::value& element, const std::string& sub, const json::value* value) {
        if (!element.is_object()) return;
        auto& o = element.as_object();
        const std::string k = existing_key(o, sub);
        if (op == op_kind::remove) erase(o, k);
        else o[k] = *value;
    }

    void apply_filtered(op_kind op, json::object& container, const std::string& key, const attribute_info& info,
                        const schema::filter& f, const std::string& sub, const json::value* value) {
        json::value& current = container[key];
        if (!current.is_array()) current = json::array{};
        json::array& values = current.as_array();
        bool matched = false;
        json::value* last_written = nullptr;
        for (std::size_t i = 0; i < values.size();) {
            auto& element = values[i];
            if (!element.is_object() || !element_matches(f, element.as_object(), info.case_exact_value)) {
                ++i;
                continue;
            }
            matched = true;
            if (!sub.empty()) {
                set_sub(op, element, sub, value);
                last_written = &element;
                ++i;
            } else if (op == op_kind::remove) {
                values.erase(values.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
                if (!value->is_object()) fail("invalidValue", "the value for '" + key + "[...]' must be an object");
                if (op == op_kind::replace) element = json::object{};
                for (const auto& kv : value->as_object()) element.as_object()[existing_key(element.as_object(), kv.key())] = kv.value();
                last_written = &element;
                ++i;
            }
        }
        if (!matched) {
            if (op == op_kind::remove) {
                if (values.empty()) erase(container, key);
                return;  // nothing to remove: a replayed PATCH stays harmless (INTEROP R5)
            }
            json::object created;
            if (op == op_kind::replace || !template_of(f, created))
                fail("noTarget", "no value of '" + key + "' matches the filter");
            // add emails[type eq "work"].value = x, for a user without a work email: create it.
            if (!sub.empty()) {
                created[sub] = *value;
            } else {
                if (!value->is_object()) fail("invalidValue", "the value for '" + key + "[...]' must be an object");
                for (const auto& kv : value->as_object()) created[kv.key()] = kv.value();
            }
            values.push_back(std::move(created));
            last_written = &values.back();
        }
        if (last_written) keep_one_primary(values, last_written);
        if (values.empty()) erase(container, key);
    }

    json::object& resource_;
    const resource_attributes& attrs_;
    std::size_t index_;
};

}  // namespace

bool element_matches(const schema::filter& f, const json::object& element, bool case_exact_value) {
    return std::visit(
        [&](const auto& n) -> bool {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, schema::comparison>) {
                return comparison_matches(n, element, case_exact_value);
            } else if constexpr (std::is_same_v<T, schema::logical>) {
                const bool l = element_matches(*n.left, element, case_exact_value);
                return n.op == schema::logical::kind::and_ ? l && element_matches(*n.right, element, case_exact_value)
                                                           : l || element_matches(*n.right, element, case_exact_value);
            } else if constexpr (std::is_same_v<T, schema::negation>) {
                return !element_matches(*n.inner, element, case_exact_value);
            } else {
                return false;  // the parser refuses nested value filters
            }
        },
        f.node);
}

void apply_patch(json::object& resource, const json::object& request, const resource_attributes& attrs) {
    // RFC 7644 §3.5.2: schemas must be exactly the PatchOp message schema.
    const auto* schemas = find_member(request, "schemas");
    bool patch_schema = false;
    if (schemas && schemas->is_array())
        for (const auto& s : schemas->as_array()) patch_schema = patch_schema || (s.is_string() && iequals(s.as_string(), patch_op_urn));
    if (!patch_schema)
        throw bad_request("invalidSyntax", "'schemas' must be [\"" + std::string(patch_op_urn) + "\"]");
    const auto* ops = find_member(request, "Operations");
    if (!ops || !ops->is_array() || ops->as_array().empty())
        throw bad_request("invalidSyntax", "'Operations' must be a non-empty array");
    for (const auto& member : request)
        if (!iequals(member.key(), "schemas") && !iequals(member.key(), "Operations"))
            throw bad_request("invalidSyntax", "unknown member '" + std::string(member.key()) + "' in a PatchOp request");

    std::size_t index = 0;
    for (const auto& item : ops->as_array()) {
        patcher p(resource, attrs, index);
        if (!item.is_object()) p.fail("invalidSyntax", "each operation must be an object");
        const auto& o = item.as_object();
        const auto* op = find_member(o, "op");
        if (!op || !op->is_string()) p.fail("invalidSyntax", "\"op\" is required");
        op_kind kind;
        if (iequals(op->as_string(), "add")) kind = op_kind::add;
        else if (iequals(op->as_string(), "replace")) kind = op_kind::replace;
        else if (iequals(op->as_string(), "remove")) kind = op_kind::remove;
        else p.fail("invalidSyntax", "unknown op '" + std::string(op->as_string()) + "' (expected add, replace or remove)");
        for (const auto& member : o)
            if (!iequals(member.key(), "op") && !iequals(member.key(), "path") && !iequals(member.key(), "value"))
                p.fail("invalidSyntax", "unknown member '" + std::string(member.key()) + "'");
        p.apply(kind, find_member(o, "path"), find_member(o, "value"));
        ++index;
    }
}

}  // namespace idgate::scim
