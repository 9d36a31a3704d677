// SPDX-License-Identifier: AGPL-3.0-or-later
// An organisation's own administration by its admins: settings, permission definitions, ownership
// transfer and the audit trail.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

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

core::response get_settings(const context& c, const core::request&) {
    require(authorize(*c.caller, action::manage_settings));
    const auto s = c.db.local_accounts().get_settings(c.organization.id).value();
    return core::response::json(200, schema::to_json(s));
}

core::response update_settings(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::manage_settings));
    // A partial document: the given keys replace the current ones (password_policy merges too), then
    // the whole result is validated, so nothing half-valid is stored.
    const body_reader body(req, {"deletion", "mfa_required", "invitation_ttl_hours", "session_ttl_hours",
                                 "password_policy"});
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
    const auto number = [&](std::string_view name, std::int64_t fallback, std::int64_t max) {
        const auto text = req.query_param(name);
        if (!text) return fallback;
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (ec != std::errc{} || ptr != text->data() + text->size() || v < 0 || v > max)
            throw core::http_error(400, "invalid_parameter", "query parameter '" + std::string(name) +
                                                                 "' must be an integer from 0 to " + std::to_string(max));
        return v;
    };
    const auto after = number("after", 0, INT64_MAX);
    const auto limit = std::max<std::int64_t>(1, number("limit", 100, 1000));
    boost::json::array items;
    std::int64_t last = after;
    for (const auto& r : c.db.list_audit(c.organization.id, after, limit)) {
        last = r.id;
        items.push_back(boost::json::object{
            {"id", r.id},
            {"at", core::format_timestamp(r.at)},
            {"actor", boost::json::object{{"kind", r.actor.kind},
                                          {"id", r.actor.id},
                                          {"display", r.actor.display},
                                          {"client_address", r.actor.client_address}}},
            {"action", r.action},
            {"target", boost::json::object{{"type", r.target_type}, {"id", r.target_id}, {"display", r.target_display}}},
            {"details", boost::json::parse(r.details_json)}});
    }
    return core::response::json(200, boost::json::serialize(boost::json::object{{"records", items}, {"next", last}}));
}

}  // namespace idgate::accounts
