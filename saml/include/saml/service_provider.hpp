// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A SAML connection as the service provider sees it: the IdP it trusts (from its metadata, or entity id,
// SSO URL and certificates), idgate's own metadata for the IdP's admin, and the AuthnRequest (sent by the
// HTTP-Redirect or HTTP-POST binding, saml/logout.hpp).
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "saml/logout.hpp"

namespace idgate::saml {

struct connection_config {
    std::string organization;  // the organisation's slug
    std::string name;          // the connection: its mapping file and the /sso/saml/{name}/... URLs
    std::string idp_entity_id;
    std::string sso_url;  // the IdP's SingleSignOnService
    binding sso_binding = binding::redirect;  // how the AuthnRequest travels there
    std::string slo_url;  // its SingleLogoutService (optional)
    binding slo_binding = binding::redirect;
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
    // The IdP's metadata fetched from a URL (empty: from a file, or configured by hand), refetched every
    // `metadata_refresh_seconds`. With `metadata_signers_pem`, the metadata must be signed by one of them.
    std::string metadata_url = {};
    int metadata_refresh_seconds = 3600;
    std::vector<std::string> metadata_signers_pem = {};
    // The AuthnRequest's binding as configured; empty: HTTP-Redirect when the IdP offers it, else POST.
    std::optional<binding> requested_sso_binding = {};
};

struct idp_metadata {
    std::string entity_id;
    std::string sso_redirect_url, sso_post_url;  // at least one
    std::string slo_redirect_url, slo_post_url;  // both empty: the IdP offers no Single Logout
    std::vector<std::string> certificates_pem;
    bool signed_by_trusted = false;  // see verify_metadata
};

// An IdP's metadata (SAML metadata §2.4.3 IDPSSODescriptor): entity id, SSO and SLO URLs per binding,
// signing certificates. Parsed with the same hardened parser as responses. With `trusted_pem` non-empty,
// the metadata must carry an enveloped signature over its root (SAML metadata §3) by one of those
// certificates, and `signed_by_trusted` is set; without, an unsigned or signed document is accepted as it
// is. Throws saml_error: invalid_metadata, unsigned_metadata, bad_signature, disallowed_algorithm, ...
idp_metadata parse_idp_metadata(const std::string& xml, const std::vector<std::string>& trusted_pem = {});

// Whether `xml` carries a signature on its root element.
bool metadata_is_signed(const std::string& xml);

// `configured` completed by an IdP's metadata: what the configuration names itself (entity id, SSO or SLO
// URL) wins; certificates are the configured ones plus the metadata's. Throws saml_error("invalid_metadata")
// when the metadata lacks the binding the configuration asks for, or names another entity than configured.
connection_config with_metadata(const connection_config& configured, const idp_metadata& metadata);

// idgate's metadata for one connection: entity id, ACS (HTTP-POST), NameID format, signed assertions wanted.
// With `encryption_certificate_pem` (the connection's own certificate), a KeyDescriptor announces it for
// encryption and for the signatures of idgate's requests; with `slo_url`, the SingleLogoutService.
std::string sp_metadata(const std::string& entity_id, const std::string& acs_url, const std::string& name_id_format,
                        const std::string& encryption_certificate_pem = {}, const std::string& slo_url = {});

// Our AuthnRequest (SAML core §3.4.1), asking for a response by HTTP-POST at `acs_url`.
std::string authn_request_xml(const std::string& sso_url, const std::string& request_id, const std::string& sp_entity_id,
                              const std::string& acs_url, const std::string& name_id_format, core::time_point now);

}  // namespace idgate::saml
