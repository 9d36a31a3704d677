// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The service provider's endpoints, per connection (URLs in the gateway's route table):
//   GET  /sso/saml/{connection}/metadata                 idgate's SP metadata, for the IdP's admin
//   GET  /sso/saml/{connection}/login?return_to=...      SP-initiated: an AuthnRequest (Redirect or POST)
//   POST /sso/saml/{connection}/acs                      the assertion consumer (HTTP-POST binding)
//   GET  /sso/saml/{connection}/logout?return_to=...     ends the session, then the IdP's (Single Logout)
//   GET or POST /sso/saml/{connection}/slo               the IdP's LogoutRequest or LogoutResponse (Redirect or POST)
// They run on the blocking pool: XML signature checks and the database.
#include <memory>
#include <string>

#include "accounts/sso.hpp"
#include "core/clock.hpp"
#include "core/http.hpp"
#include "mapping/registry.hpp"
#include "provisioning/reconciler.hpp"
#include "saml/service_provider.hpp"
#include "store/store.hpp"

namespace idgate::saml {

struct context {
    store::store& db;
    const core::clock& clock;
    provisioning::reconciler& reconciler;
    std::shared_ptr<const mapping::snapshot> rules;
    const connection_config& connection;
    const accounts::sso_settings& settings;
    schema::organization organization;
    std::string connection_id;
    // idgate's own endpoints for this connection, from the gateway (the one place that knows URLs): our
    // entity id (the metadata URL), the assertion consumer and the single-logout service.
    std::string sp_entity_id, acs_url, slo_url;
};

core::response metadata(const context& c, const core::request& req);
core::response login(const context& c, const core::request& req);
core::response acs(const context& c, const core::request& req);
core::response logout(const context& c, const core::request& req);
core::response single_logout(const context& c, const core::request& req);

}  // namespace idgate::saml
