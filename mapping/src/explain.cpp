// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mapping/explain.hpp"

#include <boost/json/array.hpp>

namespace idgate::mapping {
namespace {

std::string scalar_text(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    if (v.is_int64()) return std::to_string(v.as_int64());
    if (v.is_uint64()) return std::to_string(v.as_uint64());
    if (v.is_double()) return std::to_string(v.as_double());
    return {};
}

void flatten(const std::string& name, const boost::json::value& v, identity& out) {
    if (v.is_object()) {
        for (const auto& [key, child] : v.as_object()) {
            // Extension schemas are keyed by URN; their attributes keep it with a ':' (RFC 7644 §3.10).
            const bool urn = name.rfind("urn:", 0) == 0;
            flatten(name.empty() ? std::string(key) : name + (urn ? ":" : ".") + std::string(key), child, out);
        }
        return;
    }
    if (v.is_array()) {
        for (const auto& item : v.as_array()) {
            if (item.is_object()) {
                const auto& o = item.as_object();
                const auto* value = o.if_contains("value");
                if (!value) continue;
                const auto text = scalar_text(*value);
                out.attributes[name].push_back(text);
                if (const auto* type = o.if_contains("type"); type && type->is_string())
                    out.attributes[name + "." + std::string(type->as_string())].push_back(text);
            } else {
                out.attributes[name].push_back(scalar_text(item));
            }
        }
        return;
    }
    if (!v.is_null()) out.attributes[name].push_back(scalar_text(v));
}

boost::json::object from(const provenance& p) { return {{"rule", p.rule}}; }

}  // namespace

identity identity_from_json(const boost::json::object& sample) {
    identity out;
    for (const auto& [key, value] : sample) {
        if (key == "groups") {
            std::vector<std::string> groups;
            if (value.is_array()) {
                for (const auto& g : value.as_array()) {
                    if (g.is_string()) groups.emplace_back(g.as_string());
                    else if (g.is_object()) {
                        const auto& o = g.as_object();
                        const auto* display = o.if_contains("display");
                        const auto* id = o.if_contains("value");
                        if (display && display->is_string()) groups.emplace_back(display->as_string());
                        else if (id) groups.push_back(scalar_text(*id));
                    }
                }
            }
            out.groups = std::move(groups);
            continue;
        }
        if (key == "schemas" || key == "meta") continue;
        flatten(std::string(key), value, out);
    }
    return out;
}

boost::json::object outcome_to_json(const outcome& o) {
    boost::json::object fields;
    for (const auto& [f, value] : o.fields) fields[to_string(f)] = value;
    boost::json::array missing, scoped, permissions, undetermined;
    for (auto f : o.missing_required) missing.emplace_back(to_string(f));
    for (const auto& [s, p] : o.scoped)
        scoped.push_back(boost::json::object{{schema::to_string(s.kind), s.scope},
                                             {"role", schema::to_string(s.role)},
                                             {"from", from(p)}});
    for (const auto& [name, p] : o.permissions)
        permissions.push_back(boost::json::object{{"permission", name}, {"from", from(p)}});
    for (const auto& r : o.undetermined_rules) undetermined.emplace_back(r);
    boost::json::object out{{"accepted", o.accepted()},
                            {"fields", fields},
                            {"missing_required", missing},
                            {"scoped_roles", scoped},
                            {"permissions", permissions},
                            {"undetermined_rules", undetermined}};
    out["system_role"] = o.system_role ? boost::json::value(boost::json::object{
                                             {"role", schema::to_string(*o.system_role)}, {"from", from(o.system_role_from)}})
                                       : boost::json::value(nullptr);
    if (o.denied)
        out["denied"] = boost::json::object{{"by", o.denied_by},
                                            {"reason", o.denied_unknown ? "groups unknown; deny rules fail closed"
                                                                        : "a deny rule matched"}};
    return out;
}

}  // namespace idgate::mapping
