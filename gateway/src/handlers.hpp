// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Handler functions. Each takes the request (already authenticated and size-checked by the router)
// and returns a response or throws core::http_error.
#include "accounts/service.hpp"
#include "core/http.hpp"
#include "oidc/handlers.hpp"
#include "saml/handlers.hpp"
#include "gateway/router.hpp"
#include "scim/service.hpp"
#include "services.hpp"

namespace idgate::gateway::handlers {

// Operations
core::response healthz(const core::request&);
core::response readyz(services& s, const core::request&);
core::response metrics_text(services& s, const core::request&);
core::response version(const core::request&);

// Instance administration (organisations, audit trail, change feed)
core::response list_organizations(services& s, const core::request&);
core::response create_organization(services& s, const core::request&);
core::response get_organization(services& s, const core::request&);
core::response list_audit(services& s, const core::request&);
core::response create_scim_token(services& s, const core::request&);
core::response list_scim_tokens(services& s, const core::request&);
core::response revoke_scim_token(services& s, const core::request&);

core::response bootstrap_user(services& s, const core::request&);

// Mapping rules: what is in force, reload, and what a sample would become.
core::response mapping_status(services& s, const core::request&);
core::response mapping_reload(services& s, const core::request&);
core::response mapping_explain(services& s, const core::request&);

// SCIM: resolves the organisation the token may act on and calls a SCIM handler with its context.
using scim_handler = core::response (*)(const scim::context&, const core::request&);
core::response scim(services& s, const core::request& req, scim_handler fn);
// The two halves of a SCIM request that reads one user (scim::users::get_key / answer_get...), as a
// route's one_user_read.
using scim_user_key = std::optional<store::user_key> (*)(const scim::context&, const core::request&);
using scim_user_answer = core::response (*)(const scim::context&, const core::request&, store::result<schema::user>&&);
one_user_read scim_one_user_read(services& s, scim_user_key key, scim_user_answer answer);
core::response list_changes(services& s, const core::request&);

// Single sign-on (OpenID Connect): resolves the connection and its organisation, then calls the handler.
using oidc_handler = core::response (*)(const oidc::context&, const core::request&);
core::response oidc(services& s, const core::request& req, oidc_handler fn);

// Single sign-on (SAML): the same for a SAML connection.
using saml_handler = core::response (*)(const saml::context&, const core::request&);
core::response saml(services& s, const core::request& req, saml_handler fn);

// Authentication of bearer tokens for the router.
core::principal authenticate(services& s, const core::request& req, auth_policy policy);
// The same from the token cache only, for the I/O thread: nullopt when only the database could answer.
std::optional<core::principal> authenticate_without_blocking(services& s, const core::request& req,
                                                             auth_policy policy);

}  // namespace idgate::gateway::handlers
