// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The decisions of an OpenID Connect sign-in that idgate makes itself, as pure functions: which JOSE
// headers are acceptable, whether an ID token's (or logout token's) claims say what they must, whether a
// return_to URL is allowed. liboauth2 checks signatures; it does not check iss, aud or nonce, and treats
// exp as optional (issue 7), so every claim is checked here, each failure with its own code.
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "accounts/sso.hpp"
#include "core/clock.hpp"

namespace idgate::oidc {

// A refused sign-in: `code` names the rule (wrong_audience, expired, ...) for logs and audit records;
// `detail` explains it to an operator. The person only ever sees "Sign-in failed" and a reference.
class sign_in_error : public std::runtime_error {
public:
    sign_in_error(std::string code, const std::string& detail)
        : std::runtime_error(detail), code_(std::move(code)) {}
    const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

// A compact JWS split in three, with its header and payload decoded (not yet verified).
struct compact_jws {
    std::string header_json, payload_json, signature;
    boost::json::object header;
};
// Throws sign_in_error("malformed_token").
compact_jws split_jws(const std::string& token);

// The header's alg must be one of `allowed` (never none, never HMAC whatever `allowed` says); returns
// the key type it needs ("RSA", "EC"). Throws sign_in_error("alg_not_allowed" / "malformed_token").
std::string check_header(const boost::json::object& header, const std::vector<std::string>& allowed);

struct id_token_expectations {
    std::string issuer;
    std::string client_id;
    std::string nonce;  // the one stored with the sign-in state
    core::time_point now{};
    std::chrono::seconds skew{60};
};
// OpenID Connect Core 1.0 §3.1.3.7. Throws sign_in_error: wrong_issuer, wrong_audience, wrong_azp,
// expired, issued_in_future, missing_claim, nonce_mismatch.
void check_id_token(const boost::json::object& claims, const id_token_expectations& expected);

// OpenID Connect Back-Channel Logout 1.0 §2.6: iss, aud, iat, jti, the logout event, sub or sid, and no
// nonce. Throws sign_in_error (codes as above, plus invalid_logout_token).
void check_logout_token(const boost::json::object& claims, const id_token_expectations& expected);

// A JWT an identity provider issued to call idgate's SCIM API on its own behalf (INTEROP E12: Entra ID's
// provisioning token instead of a shared secret; RFC 9068 §4 for the checks): iss exactly, aud includes
// ours, exp required and not passed, nbf and iat not in the future, and when a tenant is configured,
// Entra's `tid` equal to it. Throws sign_in_error: wrong_issuer, wrong_audience, expired, not_yet_valid,
// issued_in_future, missing_claim, wrong_tenant.
struct bearer_expectations {
    std::string issuer;
    std::string audience;
    std::string tenant_id;  // empty: not checked
    core::time_point now{};
    std::chrono::seconds skew{60};
};
void check_bearer_token(const boost::json::object& claims, const bearer_expectations& expected);

// Whether a return_to URL is allowed (accounts/sso.hpp).
using accounts::return_url_allowed;

// A claim as text (strings as they are, numbers and booleans written out); empty when absent.
std::string claim_text(const boost::json::object& claims, std::string_view name);

}  // namespace idgate::oidc
