// SPDX-License-Identifier: AGPL-3.0-or-later
// Switching an organisation's single sign-on mode, and the break-glass accounts that keep a local password
// while it is enforced.
#include <boost/json/serialize.hpp>

#include "common.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

void require_owner(const context& c, std::string_view what) {
    if (c.caller->role != schema::system_role::super_admin)
        throw core::http_error(403, "forbidden", "only the owner (super_admin) can " + std::string(what));
}

}  // namespace

core::response set_sso_mode(const context& c, const core::request& req) {
    require_owner(c, "change how the organization signs in");
    const body_reader body(req, {"mode"});
    const auto text = body.required_string("mode", 16);
    const auto mode = schema::parse_sso_mode(text);
    if (!mode) throw invalid_field("mode", "must be off, optional or enforced");
    if (*mode == schema::sso_mode::enforced && !c.caller->break_glass)
        // Otherwise the owner could lock everyone out before SSO is known to work.
        throw core::http_error(409, "break_glass_required",
                               "mark your own account as break-glass first (PUT /api/v1/users/{id}/break-glass), so "
                               "that the organization keeps a way in if the identity provider fails");
    auto r = c.db.local_accounts().set_sso_mode(c.organization.id, *mode, c.actor);
    if (!r) throw_store_error(r.error(), "organization");
    return core::response::json(200, boost::json::serialize(boost::json::object{{"sso", schema::to_string(r->sso)}}));
}

core::response set_break_glass(const context& c, const core::request& req) {
    require_owner(c, "designate break-glass accounts");
    const auto target = load_target(c, req.param("id"));
    const body_reader body(req, {"enabled"});
    const auto enabled = body.boolean("enabled");
    if (!enabled) throw invalid_field("enabled", "required: true or false");
    if (*enabled && target.role != schema::system_role::admin && target.role != schema::system_role::super_admin)
        throw invalid_field("enabled", "break-glass accounts are local admins (admin or super_admin)");
    if (*enabled && target.profile.status != schema::user_status::active)
        throw invalid_field("enabled", "the account must be active");
    auto r = c.db.local_accounts().set_break_glass(c.organization.id, target.profile.id, *enabled, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::json(200, boost::json::serialize(account_json(*r)));
}

}  // namespace idgate::accounts
