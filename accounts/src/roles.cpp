// SPDX-License-Identifier: AGPL-3.0-or-later
// Workspaces and projects (the named resources scoped roles apply to), scoped roles ("Workspace: Role"),
// and custom roles (admin-defined permission sets).
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

boost::json::object scope_json(const schema::resource_scope& s) {
    return {{"id", s.id},
            {"kind", schema::to_string(s.kind)},
            {"name", s.name},
            {"created", core::format_timestamp(s.created)}};
}

boost::json::object role_json(const schema::custom_role& r) {
    boost::json::array perms;
    for (const auto& p : r.permissions) perms.emplace_back(p);
    return {{"name", r.name}, {"description", r.description}, {"permissions", perms}};
}

core::response list_scopes(const context& c, schema::scope_kind kind) {
    // Everyone in the organisation may see which workspaces and projects exist.
    boost::json::array items;
    for (const auto& s : c.db.local_accounts().list_scopes(c.organization.id, kind)) items.push_back(scope_json(s));
    const std::string key = kind == schema::scope_kind::workspace ? "workspaces" : "projects";
    return core::response::json(200, boost::json::serialize(boost::json::object{{key, items}}));
}

core::response create_scope(const context& c, const core::request& req, schema::scope_kind kind) {
    require(authorize(*c.caller, action::manage_settings));
    const body_reader body(req, {"name"});
    schema::resource_scope s;
    s.organization_id = c.organization.id;
    s.kind = kind;
    s.name = body.required_string("name", 100);
    auto created = c.db.local_accounts().create_scope(s, c.actor);
    if (!created) {
        if (created.error() == store::errc::already_exists)
            throw core::http_error(409, "conflict", "a " + std::string(schema::to_string(kind)) + " named '" + s.name +
                                                        "' already exists");
        throw_store_error(created.error(), schema::to_string(kind));
    }
    return core::response::json(201, boost::json::serialize(scope_json(*created)));
}

core::response delete_scope(const context& c, const core::request& req, schema::scope_kind kind) {
    require(authorize(*c.caller, action::manage_settings));
    const std::string id{req.param("id")};
    bool found = false;
    for (const auto& s : c.db.local_accounts().list_scopes(c.organization.id, kind)) found = found || s.id == id;
    if (!found) throw core::http_error(404, "not_found", "no " + std::string(schema::to_string(kind)) + " '" + id + "'");
    auto r = c.db.local_accounts().delete_scope(c.organization.id, id, c.actor);
    if (!r) throw_store_error(r.error(), schema::to_string(kind));
    return core::response::no_content();
}

std::vector<std::string> string_list(const body_reader& body, std::string_view key) {
    const auto* v = body.object().if_contains(key);
    if (!v || !v->is_array()) throw invalid_field(key, "required: an array of names");
    std::vector<std::string> out;
    for (const auto& item : v->as_array()) {
        if (!item.is_string()) throw invalid_field(key, "must contain only strings");
        out.emplace_back(item.as_string());
    }
    return out;
}

}  // namespace

core::response list_workspaces(const context& c, const core::request&) {
    return list_scopes(c, schema::scope_kind::workspace);
}
core::response create_workspace(const context& c, const core::request& req) {
    return create_scope(c, req, schema::scope_kind::workspace);
}
core::response delete_workspace(const context& c, const core::request& req) {
    return delete_scope(c, req, schema::scope_kind::workspace);
}
core::response list_projects(const context& c, const core::request&) {
    return list_scopes(c, schema::scope_kind::project);
}
core::response create_project(const context& c, const core::request& req) {
    return create_scope(c, req, schema::scope_kind::project);
}
core::response delete_project(const context& c, const core::request& req) {
    return delete_scope(c, req, schema::scope_kind::project);
}

core::response set_scoped_role(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::change_permissions, &target));
    require_local(c, c.idp.authorization_by, "roles");
    const body_reader body(req, {"role"});
    const auto text = body.required_string("role", 16);
    const auto role = schema::parse_scoped_role_name(text);
    if (!role) throw invalid_field("role", "unknown scoped role '" + text + "' (accepted: owner, editor, viewer)");
    auto r = c.db.local_accounts().set_scoped_role(c.organization.id, target.profile.id, req.param("scope"), *role,
                                                   c.actor);
    if (!r) {
        if (r.error() == store::errc::not_found)
            throw core::http_error(404, "not_found", "no workspace or project '" + std::string(req.param("scope")) + "'");
        throw_store_error(r.error(), "user");
    }
    return core::response::json(200, boost::json::serialize(account_json(*r)));
}

core::response remove_scoped_role(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::change_permissions, &target));
    require_local(c, c.idp.authorization_by, "roles");
    auto r = c.db.local_accounts().remove_scoped_role(c.organization.id, target.profile.id, req.param("scope"), c.actor);
    if (!r) {
        if (r.error() == store::errc::not_found)
            throw core::http_error(404, "not_found", "the user holds no role on '" + std::string(req.param("scope")) + "'");
        throw_store_error(r.error(), "user");
    }
    return core::response::json(200, boost::json::serialize(account_json(*r)));
}

core::response list_roles(const context& c, const core::request&) {
    boost::json::array system, custom;
    for (auto r : schema::all_system_roles) system.emplace_back(schema::to_string(r));
    for (const auto& r : c.db.local_accounts().list_custom_roles(c.organization.id)) custom.push_back(role_json(r));
    return core::response::json(200, boost::json::serialize(boost::json::object{
                                         {"system_roles", system},
                                         {"scoped_roles", boost::json::array{"owner", "editor", "viewer"}},
                                         {"custom_roles", custom}}));
}

core::response create_role(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::manage_settings));
    const body_reader body(req, {"name", "description", "permissions"});
    schema::custom_role role;
    role.name = body.required_string("name", 64);
    if (schema::parse_system_role(role.name) || schema::parse_scoped_role_name(role.name))
        throw invalid_field("name", "'" + role.name + "' is a built-in role name");
    role.description = body.string("description", 500).value_or("");
    role.permissions = string_list(body, "permissions");
    if (role.permissions.empty()) throw invalid_field("permissions", "a role needs at least one permission");
    const auto defined = c.db.local_accounts().list_permissions(c.organization.id);
    for (const auto& p : role.permissions) {
        bool known = false;
        for (const auto& d : defined) known = known || d.name == p;
        if (!known) throw invalid_field("permissions", "'" + p + "' is not defined in this organization");
    }
    auto r = c.db.local_accounts().create_custom_role(c.organization.id, role, c.actor);
    if (!r) {
        if (r.error() == store::errc::already_exists)
            throw core::http_error(409, "conflict", "a role named '" + role.name + "' already exists");
        throw_store_error(r.error(), "role");
    }
    return core::response::json(201, boost::json::serialize(role_json(*r)));
}

core::response delete_role(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::manage_settings));
    auto r = c.db.local_accounts().delete_custom_role(c.organization.id, req.param("name"), c.actor);
    if (!r) throw_store_error(r.error(), "role '" + std::string(req.param("name")) + "'");
    return core::response::no_content();
}

core::response set_custom_roles(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::change_permissions, &target));
    require_local(c, c.idp.authorization_by, "roles");
    const body_reader body(req, {"roles"});
    const auto names = string_list(body, "roles");
    const auto roles = c.db.local_accounts().list_custom_roles(c.organization.id);
    for (const auto& n : names) {
        bool known = false;
        for (const auto& r : roles) known = known || r.name == n;
        if (!known) throw invalid_field("roles", "'" + n + "' is not a role of this organization (GET /api/v1/roles)");
    }
    auto r = c.db.local_accounts().set_custom_roles(c.organization.id, target.profile.id, names, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::json(200, boost::json::serialize(account_json(*r)));
}

}  // namespace idgate::accounts
