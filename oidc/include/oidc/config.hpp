// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// An OpenID Connect connection: one identity provider an organisation signs people in with
// (OpenID Connect Core 1.0, Discovery 1.0). Read from `sso.oidc` in idgate.yaml.
#include <string>
#include <vector>

#include "accounts/sso.hpp"

namespace idgate::oidc {

struct connection_config {
    std::string organization;  // the organisation's slug
    std::string name;          // the connection: its mapping file, and the /sso/oidc/{name}/... URLs
    std::string issuer;        // exactly as the provider's discovery document and ID tokens say it
    std::string client_id, client_secret;
    // client_secret_basic (default), client_secret_post, or private_key_jwt (RFC 7523 §2.2: a JWT signed
    // with the client's private key, whose public key the provider holds; no shared secret at all).
    enum class client_auth { basic, post, private_key_jwt };
    client_auth auth = client_auth::basic;
    std::string private_key_pem;  // private_key_jwt: the client's RSA key (PEM)
    std::string key_id;           // private_key_jwt: the key's id at the provider (the JWT's kid), if any
    std::vector<std::string> scopes{"openid", "email", "profile"};
    // Individual claims to ask for in the ID token (the `claims` request parameter, OIDC Core §5.5), for
    // providers that send a claim only when asked, such as "groups".
    std::vector<std::string> claims;
    // Signature algorithms accepted for ID tokens and logout tokens. Never "none" and never HMAC: an
    // HS256 token "signed" with the provider's public key must fail (RFC 8725 §2.1, §3.1).
    std::vector<std::string> algorithms{"RS256"};
    bool userinfo = false;  // also call the userinfo endpoint; its `sub` must match the ID token's
    // Which claims identify the person: `iss` + `sub` (OIDC Core §5.7), or Entra ID's `tid` + `oid`
    // (stable across the tenant's applications).
    enum class identity_key { iss_sub, tid_oid };
    identity_key identity = identity_key::iss_sub;
    // Endpoints; empty ones come from the discovery document ({issuer}/.well-known/openid-configuration).
    std::string authorization_endpoint, token_endpoint, jwks_uri, userinfo_endpoint, end_session_endpoint;
    int discovery_refresh_seconds = 3600;  // the discovery document and the JWKS are fetched again after this
    // An ID token signed by a key the cached JWKS lacks refetches it (key rotation), at most this often:
    // an attacker's made-up key ids cannot make idgate hammer the provider.
    int jwks_refetch_seconds = 30;
    int http_timeout_seconds = 10;
    // Verifies tokens only (SCIM bearer JWTs): with jwks_uri set, no discovery document is needed.
    bool verify_only = false;
};

// The settings every single sign-on connection shares (accounts/sso.hpp).
using sso_settings = accounts::sso_settings;

}  // namespace idgate::oidc
