// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Single Logout (SAML profiles §4.4) over the HTTP-Redirect binding (bindings §3.4), whose messages are
// signed as query strings (bindings §3.4.4.1): idgate signs what it sends with the connection's own key and
// accepts an IdP's LogoutRequest only with a valid signature by one of the IdP's certificates.
#include <optional>
#include <string>
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

// What arrived on the redirect binding: the inflated XML, and whether it is a request or a response.
struct redirect_message {
    std::string xml;
    std::string relay_state;
    bool is_request = false;
    bool signature_verified = false;
};

// Reads a redirect-binding message from the raw (still encoded) query. With `require_signature`, an
// unsigned message or one not signed by one of `certificates_pem` (RSA-SHA256/384/512; SHA-1 only with
// `allow_sha1`) is refused. Throws saml_error: malformed_request, unsigned, bad_signature, disallowed_algorithm.
redirect_message read_redirect(const std::string& raw_query, const std::vector<std::string>& certificates_pem,
                               bool require_signature, bool allow_sha1 = false);

// Parsed with the hardened parser. Throws saml_error("malformed_request").
logout_request parse_logout_request(const std::string& xml);
logout_response parse_logout_response(const std::string& xml);

std::string logout_request_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                               const std::string& name_id, const std::string& name_id_format,
                               const std::string& session_index, core::time_point now);
std::string logout_response_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                                const std::string& in_response_to, core::time_point now);

// `endpoint`?SAMLRequest|SAMLResponse=...&RelayState=...[&SigAlg=...&Signature=...]: deflated, base64,
// URL-encoded, and signed with RSA-SHA256 when `private_key_pem` is given.
std::string redirect_url(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                         const std::string& relay_state, const std::string& private_key_pem);

}  // namespace idgate::saml
