// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A SAML connection as the service provider sees it: the IdP it trusts (from its metadata, or entity id,
// SSO URL and certificates), idgate's own metadata for the IdP's admin, and the AuthnRequest sent by the
// HTTP-Redirect binding (SAML bindings §3.4).
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace idgate::saml {

struct connection_config {
    std::string organization;  // the organisation's slug
    std::string name;          // the connection: its mapping file and the /sso/saml/{name}/... URLs
    std::string idp_entity_id;
    std::string sso_url;  // the IdP's SingleSignOnService for HTTP-Redirect
    std::string slo_url;  // its SingleLogoutService for HTTP-Redirect (optional)
    std::vector<std::string> certificates_pem;  // trusted signing certificates (several during a rollover)
    bool allow_idp_initiated = false;
    bool allow_sha1 = false;
    // Attributes that carry groups (Okta: "groups"; Entra ID: its groups claim URI). None of them sent,
    // or Entra's groups.link (an overage): the groups are unknown, never "member of nothing".
    std::vector<std::string> groups_attributes{"groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"};
    std::string name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    // idgate's own key pair for this connection (optional): the IdP encrypts assertions to the certificate,
    // published in idgate's metadata; idgate decrypts with the key.
    std::string sp_private_key_pem, sp_certificate_pem;
};

struct idp_metadata {
    std::string entity_id;
    std::string sso_redirect_url;
    std::string slo_redirect_url;  // empty: the IdP offers no Single Logout
    std::vector<std::string> certificates_pem;
};

// An IdP's metadata (SAML metadata §2.4.3 IDPSSODescriptor): entity id, HTTP-Redirect SSO URL, signing
// certificates. Parsed with the same hardened parser as responses. Throws saml_error("invalid_metadata").
idp_metadata parse_idp_metadata(const std::string& xml);

// idgate's metadata for one connection: entity id, ACS (HTTP-POST), NameID format, signed assertions wanted.
// With `encryption_certificate_pem` (the connection's own certificate), a KeyDescriptor announces it for
// encryption and for the signatures of idgate's requests; with `slo_url`, the SingleLogoutService.
std::string sp_metadata(const std::string& entity_id, const std::string& acs_url, const std::string& name_id_format,
                        const std::string& encryption_certificate_pem = {}, const std::string& slo_url = {});

// The IdP URL that carries our AuthnRequest (deflated, base64, URL-encoded) and the RelayState, signed
// (SigAlg, Signature) when `private_key_pem` is given.
std::string authn_request_url(const std::string& sso_url, const std::string& request_id, const std::string& sp_entity_id,
                              const std::string& acs_url, const std::string& name_id_format,
                              const std::string& relay_state, core::time_point now,
                              const std::string& private_key_pem = {});

}  // namespace idgate::saml
