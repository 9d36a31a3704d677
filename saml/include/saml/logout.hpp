// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The two browser bindings of SAML messages and the Single Logout messages (SAML profiles §4.4).
// HTTP-Redirect (bindings §3.4): deflated, base64, in the query, signed as a query string (§3.4.4.1).
// HTTP-POST (bindings §3.5): base64 in an auto-submitted form, signed as an enveloped XML signature (§3.5.4).
// idgate signs what it sends with the connection's own key and accepts an IdP's LogoutRequest only with a
// valid signature by one of the IdP's certificates.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace idgate::saml {

struct logout_request {
    std::string id, issuer, name_id;
    std::vector<std::string> session_indexes;
};

struct logout_response {
    std::string in_response_to, issuer, status;
};

enum class binding { redirect, post };

// What arrived on either binding: the XML, and whether it is a request or a response.
struct inbound_message {
    std::string xml;
    std::string relay_state;
    bool is_request = false;
    bool signature_verified = false;
};

// Reads a redirect-binding message from the raw (still encoded) query. With `require_signature`, an
// unsigned message or one not signed by one of `certificates_pem` (RSA-SHA256/384/512; SHA-1 only with
// `allow_sha1`) is refused. Throws saml_error: malformed_request, unsigned, bad_signature, disallowed_algorithm.
inbound_message read_redirect(const std::string& raw_query, const std::vector<std::string>& certificates_pem,
                               bool require_signature, bool allow_sha1 = false);

// Reads a POST-binding Single Logout message (the form body). A message with an enveloped signature is
// verified like a Response (trusted certificates only, allowed algorithms, one reference to the root);
// `signature_verified` says whether it was signed. Throws saml_error: malformed_request, bad_signature,
// disallowed_algorithm, wrong_reference, duplicate_id.
inbound_message read_post(const std::string& form_body, const std::vector<std::string>& certificates_pem,
                          bool allow_sha1 = false);

// Parsed with the hardened parser. Throws saml_error("malformed_request").
logout_request parse_logout_request(const std::string& xml);
logout_response parse_logout_response(const std::string& xml);

// `name_id_format` empty: a NameID without a Format attribute, as it was issued.
std::string logout_request_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                               const std::string& name_id, const std::string& name_id_format,
                               const std::string& session_index, core::time_point now);
std::string logout_response_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                                const std::string& in_response_to, core::time_point now);

// `endpoint`?SAMLRequest|SAMLResponse=...&RelayState=...[&SigAlg=...&Signature=...]: deflated, base64,
// URL-encoded, and signed with RSA-SHA256 when `private_key_pem` is given.
std::string redirect_url(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                         const std::string& relay_state, const std::string& private_key_pem);

// An enveloped XML signature over the root element (RSA-SHA256, exclusive c14n, one reference to the
// root's ID), placed after its Issuer (SAML core §5.4.1), with `certificate_pem` in KeyInfo when given.
std::string sign_xml(const std::string& xml, const std::string& private_key_pem, const std::string& certificate_pem);

// What the browser posts for the POST binding: the fields of an auto-submitted form to `action`.
struct post_form {
    std::string action;
    std::vector<std::pair<std::string, std::string>> fields;
};
// `parameter` (SAMLRequest or SAMLResponse) = base64 of the XML, signed when `private_key_pem` is given.
post_form post_message(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                       const std::string& relay_state, const std::string& private_key_pem,
                       const std::string& certificate_pem);

}  // namespace idgate::saml
