// SPDX-License-Identifier: AGPL-3.0-or-later
// An organisation's own administration by its admins: settings, permission definitions, ownership
// transfer and the audit trail.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "accounts/password.hpp"
#include "common.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

bool valid_permission_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char ch : name)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-'))
            return false;
    return true;
}

}  // namespace

boost::json::object audit_record_json(const schema::audit_record& r) {
    return {{"id", r.id},
            {"at", core::format_timestamp(r.at)},
            {"actor", boost::json::object{{"kind", r.actor.kind},
                                          {"id", r.actor.id},
                                          {"display", r.actor.display},
                                          {"client_address", r.actor.client_address},
                                          {"request_id", r.actor.request_id}}},
            {"action", r.action},
            {"target", boost::json::object{{"type", r.target_type}, {"id", r.target_id}, {"display", r.target_display}}},
            {"details", boost::json::parse(r.details_json)}};
}

core::response get_settings(const context& c, const core::request&) {
    require(authorize(*c.caller, action::manage_settings));
    const auto s = c.db.local_accounts().get_settings(c.organization.id).value();
    return core::response::json(200, schema::to_json(s));
}

core::response update_settings(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::manage_settings));
    // A partial document: the given keys replace the current ones (password_policy merges too), then
    // the whole result is validated, so nothing half-valid is stored.
    const body_reader body(req, {"deletion", "mfa_required", "password_reset", "invitation_ttl_hours",
                                 "session_ttl_hours", "password_policy"});
    const auto current = c.db.local_accounts().get_settings(c.organization.id).value();
    auto merged = boost::json::parse(schema::to_json(current)).as_object();
    for (const auto& [key, value] : body.object()) {
        if (key == "password_policy" && value.is_object()) {
            auto& policy = merged["password_policy"].as_object();
            for (const auto& [pk, pv] : value.as_object()) policy[pk] = pv;
        } else {
            merged[key] = value;
        }
    }
    std::string error;
    const auto parsed = schema::parse_organization_settings(boost::json::serialize(merged), error);
    if (!parsed) throw core::http_error(400, "invalid_field", error);
    auto r = c.db.local_accounts().set_settings(c.organization.id, *parsed, c.actor);
    if (!r) throw_store_error(r.error(), "organization");
    return core::response::json(200, schema::to_json(*parsed));
}

core::response list_permissions(const context& c, const core::request&) {
    require(authorize(*c.caller, action::view_user, nullptr));
    boost::json::array items;
    for (const auto& p : c.db.local_accounts().list_permissions(c.organization.id))
        items.push_back(
            boost::json::object{{"name", p.name}, {"description", p.description}, {"requires_mfa", p.requires_mfa}});
    return core::response::json(200, boost::json::serialize(boost::json::object{{"permissions", items}}));
}

core::response define_permission(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::manage_settings));
    const body_reader body(req, {"name", "description", "requires_mfa"});
    schema::permission_definition p;
    p.name = body.required_string("name", 64);
    if (!valid_permission_name(p.name))
        throw invalid_field("name", "1-64 characters of a-z, 0-9 and _ . : - (e.g. active_response)");
    p.description = body.string("description", 500).value_or("");
    p.requires_mfa = body.boolean("requires_mfa").value_or(false);
    auto r = c.db.local_accounts().define_permission(c.organization.id, p, c.actor);
    if (!r) throw_store_error(r.error(), "permission");
    return core::response::json(201, boost::json::serialize(boost::json::object{
                                         {"name", p.name}, {"description", p.description}, {"requires_mfa", p.requires_mfa}}));
}

core::response transfer_ownership(const context& c, const core::request& req) {
    const body_reader body(req, {"to", "password"});
    const auto to = body.required_string("to", 64);
    const auto password = body.required_string("password", 1024);
    if (c.caller->role != schema::system_role::super_admin)
        throw core::http_error(403, "forbidden", "only the owner (super_admin) can transfer ownership");
    // The owner's password, not just their session: handing over an organisation is not something a
    // stolen session cookie should be able to do.
    auto self = c.db.local_accounts().find_login(c.organization.id, c.caller->profile.user_name);
    if (!self || self->password_hash.empty() || !verify_password(self->password_hash, password))
        throw invalid_field("password", "is not correct");
    const auto heir = load_target(c, to);
    if (heir.role != schema::system_role::admin || heir.profile.status != schema::user_status::active)
        throw invalid_field("to", "ownership goes to an active admin; make the user an admin first");
    auto r = c.db.local_accounts().transfer_ownership(c.organization.id, c.caller->profile.id, heir.profile.id,
                                                      c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::no_content();
}

core::response audit(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::view_audit));
    const auto time = [&](std::string_view name) -> std::optional<core::time_point> {
        const auto text = req.query_param(name);
        if (!text) return std::nullopt;
        std::string value{*text};
        if (value.size() == 10) value += "T00:00:00Z";
        const auto t = core::parse_timestamp(value);
        if (!t)
            throw core::http_error(400, "invalid_parameter", "query parameter '" + std::string(name) +
                                                                 "' must be a date (2026-01-31) or a UTC timestamp");
        return t;
    };
    store::audit_query q;
    q.organization_id = c.organization.id;
    q.actor_id = std::string(req.query_param("actor").value_or(""));
    q.target_id = std::string(req.query_param("target").value_or(""));
    q.action = std::string(req.query_param("action").value_or(""));
    q.from = time("from");
    q.to = time("to");
    q.after_id = core::integer_query_param(req, "after", 0, 0, INT64_MAX);
    q.before_id = core::integer_query_param(req, "before", 0, 0, INT64_MAX);
    q.limit = core::integer_query_param(req, "limit", 100, 1, 1000);
    if (const auto order = req.query_param("order")) {
        if (*order != "asc" && *order != "desc")
            throw core::http_error(400, "invalid_parameter", "query parameter 'order' must be asc or desc");
        q.newest_first = *order == "desc";
    }
    if (q.after_id > 0 && q.newest_first)
        throw core::http_error(400, "invalid_parameter", "'after' pages oldest first; with order=desc use 'before'");
    boost::json::array items;
    std::int64_t next = 0;
    for (const auto& r : c.db.find_audit(q)) {
        next = r.id;
        items.push_back(audit_record_json(r));
    }
    // `next`: the cursor for the following page ("after" oldest first, "before" newest first).
    boost::json::object body{{"records", items}};
    body["next"] = next == 0 ? boost::json::value(nullptr) : boost::json::value(next);
    return core::response::json(200, boost::json::serialize(body));
}

}  // namespace idgate::accounts
