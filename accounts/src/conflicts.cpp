// SPDX-License-Identifier: AGPL-3.0-or-later
// Identity conflicts held for an admin: an identity provider pushed (or signed in) someone whose userName or
// email belongs to an existing local account, and the connection's policy is `queue`. Approving links the
// account to the IdP identity (the IdP's next attempt then succeeds); rejecting keeps them apart.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common.hpp"
#include "store/provisioning.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

boost::json::object conflict_json(const store::identity_conflict& c) {
    boost::system::error_code ec;
    auto proposed = boost::json::parse(c.proposed_json, ec);
    if (ec) proposed = boost::json::object{};
    boost::json::object o{{"id", c.id},
                          {"connection", c.connection_name},
                          {"subject", c.subject},
                          {"existing_user", boost::json::object{{"id", c.existing_user_id},
                                                                {"user_name", c.existing_user_name}}},
                          {"reason", c.reason},
                          {"proposed", proposed},
                          {"status", c.status},
                          {"created", core::format_timestamp(c.created)}};
    o["decided"] = c.decided ? boost::json::value(core::format_timestamp(*c.decided)) : boost::json::value(nullptr);
    o["decided_by"] = c.decided_by.empty() ? boost::json::value(nullptr) : boost::json::value(c.decided_by);
    return o;
}

store::identity_conflict load_conflict(const context& c, std::string_view id) {
    auto found = c.db.identities().get_conflict(c.organization.id, id);
    if (!found) throw core::http_error(404, "not_found", "no identity conflict '" + std::string(id) + "'");
    return *found;
}

core::response decide(const context& c, const core::request& req, bool approve) {
    const auto conflict = load_conflict(c, req.param("id"));
    // Linking gives the identity provider control of the account: the rules for editing that account apply
    // (admins; a super_admin's account only by a super_admin).
    const auto target = load_target(c, conflict.existing_user_id);
    require(authorize(*c.caller, action::edit_user, &target));
    auto decided = c.db.identities().decide_conflict(c.organization.id, conflict.id, approve, c.actor);
    if (!decided && decided.error() == store::errc::already_used)
        throw core::http_error(409, "already_decided", "this identity conflict was already " + conflict.status);
    if (!decided) throw_store_error(decided.error(), "identity conflict");
    return core::response::json(200, boost::json::serialize(conflict_json(*decided)));
}

}  // namespace

core::response list_identity_conflicts(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::view_audit));
    const std::string status{req.query_param("status").value_or("pending")};
    if (status != "pending" && status != "approved" && status != "rejected" && status != "all")
        throw core::http_error(400, "invalid_parameter", "query parameter 'status' must be pending, approved, rejected or all");
    boost::json::array items;
    for (const auto& x : c.db.identities().list_conflicts(c.organization.id, status == "all" ? "" : status))
        items.push_back(conflict_json(x));
    return core::response::json(200, boost::json::serialize(boost::json::object{{"conflicts", items}}));
}

core::response get_identity_conflict(const context& c, const core::request& req) {
    require(authorize(*c.caller, action::view_audit));
    return core::response::json(200, boost::json::serialize(conflict_json(load_conflict(c, req.param("id")))));
}

core::response approve_identity_conflict(const context& c, const core::request& req) { return decide(c, req, true); }
core::response reject_identity_conflict(const context& c, const core::request& req) { return decide(c, req, false); }

}  // namespace idgate::accounts
