// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The relying party's endpoints, per connection (the gateway's route table has the URLs):
//   GET  /sso/oidc/{connection}/login?return_to=...   starts the authorization code flow (PKCE S256)
//   GET  /sso/oidc/{connection}/callback               finishes it: session, then back to return_to
//   GET  /sso/oidc/{connection}/logout                 ends the session, then the provider's (RP-initiated)
//   POST /sso/oidc/{connection}/backchannel-logout     the provider ends sessions (Back-Channel Logout 1.0)
// They run on the blocking pool: they call the database and the provider.
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/http.hpp"
#include "mapping/registry.hpp"
#include "oidc/provider.hpp"
#include "provisioning/reconciler.hpp"
#include "store/store.hpp"

namespace idgate::oidc {

struct context {
    store::store& db;
    const core::clock& clock;
    provisioning::reconciler& reconciler;
    std::shared_ptr<const mapping::snapshot> rules;  // the mapping rules the request started with
    provider& idp;
    const sso_settings& settings;
    schema::organization organization;  // the connection's organisation
    std::string connection_id;          // its row in idp_connections
    // idgate's own URLs, from the gateway (the one place that knows URLs): the redirect_uri registered at
    // the provider, and the public base that turns a path into an absolute URL for it.
    std::string redirect_uri;
    std::string public_base;
};

core::response login(const context& c, const core::request& req);
core::response callback(const context& c, const core::request& req);
core::response logout(const context& c, const core::request& req);
core::response backchannel_logout(const context& c, const core::request& req);

// The person's identity key: "iss|sub", or Entra's "tid|oid" (connection_config::identity_key).
std::string subject_of(const connection_config& config, const boost::json::object& claims);

// The claims as mapping input: every string, number, boolean or list of them; "groups" as the group
// list -- or unknown when absent or when the provider signals an overage (Entra ID's "_claim_names"
// holding "groups", or "hasgroups": INTEROP S2), never as "member of nothing".
mapping::identity identity_from_claims(const boost::json::object& claims);

}  // namespace idgate::oidc
