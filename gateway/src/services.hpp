// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What handlers are given: the long-lived parts of the process. Handlers hold no state of their own.
#include <map>
#include <memory>
#include <vector>

#include "accounts/mail.hpp"
#include "accounts/service.hpp"
#include "core/clock.hpp"
#include "mapping/registry.hpp"
#include "oidc/provider.hpp"
#include "saml/connection.hpp"
#include "provisioning/reconciler.hpp"
#include "gateway/metrics.hpp"
#include "scim/schema_definitions.hpp"
#include "store/store.hpp"
#include "token_cache.hpp"

namespace idgate::gateway {

// An identity provider whose own JWTs are accepted as SCIM bearer tokens (config: scim.jwt_bearer).
struct scim_jwt_issuer {
    std::string organization;  // slug
    std::string connection;    // IdP connection name, or empty
    std::string tenant_id;
    std::unique_ptr<oidc::provider> verifier;  // its keys, cached and refreshed
};

struct services {
    store::store& db;
    metrics& stats;
    const core::clock& clock;
    const scim::extension_registry& scim_extensions;
    const accounts::mailer* mail = nullptr;  // null when no mail server is configured
    mapping::registry* mappings = nullptr;   // the mapping rules in force
    // What each organisation's identity providers own (from the mapping files), for the read-only mirror.
    accounts::idp_policy_lookup idp_policies;
    provisioning::reconciler* reconciler = nullptr;  // applies mapping outcomes to stored users
    // Single sign-on: shared settings and the OpenID Connect providers by connection name.
    oidc::sso_settings sso_settings{};
    std::string public_url{};  // config server.public_url: absolute URLs hang off it (routes.cpp urls::)
    std::map<std::string, std::unique_ptr<oidc::provider>> oidc_providers{};
    std::map<std::string, std::unique_ptr<saml::connection>> saml_connections{};
    const core::secret_box* secrets = nullptr;  // seals TOTP keys at rest (config `encryption`)
    token_cache* tokens = nullptr;  // valid bearer tokens, briefly; null: every request asks the database
    std::vector<scim_jwt_issuer> scim_jwt{};  // JWT bearer issuers for SCIM (INTEROP E12)
};

// The read-only mirror's policy of an organisation, merged from the `locks` of its connections' mapping
// files (the first connection that owns something is named as its owner).
accounts::idp_policy idp_policy_for(const mapping::snapshot& rules, std::string_view organization_slug);

}  // namespace idgate::gateway
