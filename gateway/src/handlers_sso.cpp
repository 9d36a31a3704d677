// SPDX-License-Identifier: AGPL-3.0-or-later
// The bridge from routes to the single sign-on modules: which connection, which organisation, which rules.
#include "handlers.hpp"
#include "routes.hpp"
#include "store/provisioning.hpp"

namespace idgate::gateway::handlers {

core::response oidc(services& s, const core::request& req, oidc_handler fn) {
    const std::string name{req.param("connection")};
    const auto found = s.oidc_providers.find(name);
    if (found == s.oidc_providers.end())
        throw core::http_error(404, "not_found", "no OpenID Connect connection '" + name + "'");
    auto& provider = *found->second;
    const auto org = s.db.find_organization_by_slug(provider.config().organization);
    if (!org)
        throw core::http_error(404, "not_found", "connection '" + name + "' belongs to organization '" +
                                                     provider.config().organization + "', which does not exist");
    const schema::actor system{"system", "", "sso connection " + name, req.client_address, req.request_id};
    const auto connection = s.db.identities().ensure_connection(org->id, name, system);
    if (!connection) throw core::http_error(500, "internal_error", "could not record the connection");
    const oidc::context c{s.db,
                          s.clock,
                          *s.reconciler,
                          s.mappings->current(),
                          provider,
                          s.sso_settings,
                          *org,
                          connection->id,
                          urls::public_url(s.public_url, urls::oidc_endpoint(name, "callback")),
                          urls::public_url(s.public_url, "")};
    return fn(c, req);
}

core::response saml(services& s, const core::request& req, saml_handler fn) {
    const std::string name{req.param("connection")};
    const auto found = s.saml_connections.find(name);
    if (found == s.saml_connections.end())
        throw core::http_error(404, "not_found", "no SAML connection '" + name + "'");
    // This request's snapshot: a metadata refresh meanwhile swaps the connection's, not this one.
    const auto snapshot = found->second->current();
    const auto& connection = *snapshot;
    const auto org = s.db.find_organization_by_slug(connection.organization);
    if (!org)
        throw core::http_error(404, "not_found", "connection '" + name + "' belongs to organization '" +
                                                     connection.organization + "', which does not exist");
    const schema::actor system{"system", "", "sso connection " + name, req.client_address, req.request_id};
    const auto row = s.db.identities().ensure_connection(org->id, name, system);
    if (!row) throw core::http_error(500, "internal_error", "could not record the connection");
    const saml::context c{s.db,
                          s.clock,
                          *s.reconciler,
                          s.mappings->current(),
                          connection,
                          s.sso_settings,
                          *org,
                          row->id,
                          urls::public_url(s.public_url, urls::saml_endpoint(name, "metadata")),
                          urls::public_url(s.public_url, urls::saml_endpoint(name, "acs")),
                          urls::public_url(s.public_url, urls::saml_endpoint(name, "slo"))};
    return fn(c, req);
}

}  // namespace idgate::gateway::handlers
