// SPDX-License-Identifier: AGPL-3.0-or-later
// The bridge from routes to the SCIM module: which organisation, and who is writing.
#include <optional>

#include "handlers.hpp"
#include "provisioning/connection_gate.hpp"
#include "routes.hpp"

namespace idgate::gateway::handlers {

namespace {

// Calls fn with the SCIM context of the caller's organisation. The token decides the organisation. A
// token of organisation A asking for B's URL gets the same 404 as an unknown organisation, so nothing
// about B (not even its existence) leaks. The token's own organisation came with it (one query for
// both); comparing slugs is enough. `gated`: writes by a token of an IdP connection go through that
// connection's mapping rules and policies, with the rules in force when the request started; reads do
// not need them.
template <typename Fn>
auto with_context(services& s, const core::request& req, bool gated, Fn&& fn) {
    const std::string slug{req.param("org")};
    if (req.caller.organization_id.empty() || slug != req.caller.organization_slug)
        throw core::http_error(404, "not_found", "no SCIM endpoint at this URL for this token");
    schema::organization org;
    org.id = req.caller.organization_id;
    org.slug = req.caller.organization_slug;
    const schema::actor actor{"scim_client",    req.caller.id,     req.caller.display,
                              req.client_address, req.request_id, req.caller.connection_id};
    idgate::scim::context c{s.db, s.clock, org, urls::scim_endpoint(s.public_url, org.slug), actor, s.scim_extensions};
    std::optional<provisioning::connection_gate> gate;
    if (gated && !req.caller.connection_id.empty() && s.reconciler) {
        gate.emplace(s.db, *s.reconciler, s.mappings ? s.mappings->current() : nullptr,
                     provisioning::connection_ref{org.id, org.slug, req.caller.connection_id, req.caller.connection_name},
                     s.scim_extensions, actor);
        c.gate = &*gate;
    }
    return fn(c);
}

}  // namespace

core::response scim(services& s, const core::request& req, scim_handler fn) {
    return with_context(s, req, true, [&](const idgate::scim::context& c) { return fn(c, req); });
}

one_user_read scim_one_user_read(services& s, scim_user_key key, scim_user_answer answer) {
    return {[&s, key](core::request& req) {
                return with_context(s, req, false, [&](const idgate::scim::context& c) { return key(c, req); });
            },
            [&s, answer](core::request& req, store::result<schema::user>&& found) {
                return with_context(s, req, false, [&](const idgate::scim::context& c) {
                    return answer(c, req, std::move(found));
                });
            }};
}

}  // namespace idgate::gateway::handlers
