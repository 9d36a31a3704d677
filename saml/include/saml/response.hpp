// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SAML 2.0 assertion consumer's validation of a Response (SAML 2.0 core §3.2.2, §2.3-2.7; profiles
// §4.1.4), with every byte treated as hostile. In order, failing closed, one reason code per rule:
//   size -> a parser without DTDs, entities or network -> one Response, one Assertion, unique IDs ->
//   XML signature over the Response and/or the Assertion by a trusted certificate of the connection (never
//   a key from KeyInfo; allowed algorithms and transforms only; one same-document reference to the signed
//   element itself) -> Issuer, Status, Destination, bearer SubjectConfirmation (Recipient, NotOnOrAfter,
//   InResponseTo), Conditions (NotBefore, NotOnOrAfter, Audience) -> NameID and attributes, read only from
//   the signed assertion, as whole text content (a comment inside a NameID cannot truncate it).
// The one-time use of the assertion id (replay) is the caller's, against the shared database.
// libxml2 and xmlsec1 stay inside src/response.cpp.
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace idgate::saml {

class saml_error : public std::runtime_error {
public:
    saml_error(std::string code, const std::string& detail) : std::runtime_error(detail), code_(std::move(code)) {}
    const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

// What a connection trusts: its IdP's entity id and signing certificates (several during a rollover).
struct idp_trust {
    std::string entity_id;
    std::vector<std::string> certificates_pem;
    bool allow_sha1 = false;  // RSA-SHA1 / SHA-1 digests, only for an IdP that cannot do better
    // Our own private key (PEM) for encrypted assertions; empty: an encrypted assertion is refused.
    std::string sp_private_key_pem = {};
};

struct expectations {
    std::string sp_entity_id;  // our Audience
    std::string acs_url;       // Destination and Recipient
    // The ID of our AuthnRequest; nullopt for an IdP-initiated (unsolicited) response.
    std::optional<std::string> in_response_to;
    bool allow_unsolicited = false;
    core::time_point now{};
    std::chrono::seconds skew{60};
    std::size_t max_bytes = 256 * 1024;
};

struct assertion {
    std::string id;  // for the one-time-use cache
    std::string issuer;
    std::string name_id, name_id_format;
    std::string session_index;
    core::time_point valid_until{};  // the earliest NotOnOrAfter: keep the id in the replay cache until then
    std::map<std::string, std::vector<std::string>> attributes;  // by Name, exactly as sent
    bool response_signed = false, assertion_signed = false;
};

// Validates a Response given as XML text. Throws saml_error.
assertion validate_response(const std::string& xml, const idp_trust& trust, const expectations& expected);

// The SAMLResponse field of the HTTP-POST binding (base64, SAML bindings §3.5.4) to XML text. Throws
// saml_error("malformed_response").
std::string decode_post_binding(const std::string& field, std::size_t max_bytes = 256 * 1024);

// Whether a PEM certificate can verify signatures (checked when the configuration is loaded, so that a
// broken certificate stops idgate at start instead of failing every sign-in).
bool certificate_usable(const std::string& pem);

// Process-wide libxml2 and xmlsec1 set-up with network and file access refused; idempotent, thread-safe.
void initialise();

}  // namespace idgate::saml
