// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// One OpenID Provider as a relying party sees it: its endpoints (from discovery, cached and refreshed),
// its signing keys (the JWKS, cached; an unknown key id refetches it, rate-limited), the authorization
// request, the code exchange, and the validation of ID tokens and logout tokens. Thread-safe; every call
// that reaches the provider blocks (run it on the blocking pool).
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "oidc/config.hpp"
#include "oidc/validation.hpp"

namespace idgate::oidc {

namespace detail {
class key_set;
}

struct endpoints {
    std::string issuer, authorization, token, jwks, userinfo, end_session;
    bool iss_parameter_supported = false;  // RFC 9207 authorization_response_iss_parameter_supported
};

struct token_response {
    std::string id_token, access_token;
};

class provider {
public:
    provider(connection_config config, const core::clock& clock, std::chrono::seconds clock_skew = std::chrono::seconds(60));
    ~provider();

    const connection_config& config() const { return config_; }

    // The endpoints, discovered on first use and refreshed after discovery_refresh_seconds. Throws
    // sign_in_error("idp_unreachable") when the provider cannot be reached and nothing is cached.
    endpoints current_endpoints();

    // The authorization request (code flow, PKCE S256: RFC 7636 §4.3).
    std::string authorization_url(const std::string& redirect_uri, const std::string& state, const std::string& nonce,
                                  const std::string& code_challenge);
    // Exchanges the code at the token endpoint. Throws sign_in_error("token_exchange_failed").
    token_response exchange_code(const std::string& code, const std::string& code_verifier,
                                 const std::string& redirect_uri);
    // Signature (allowed algorithm, a key of the provider's JWKS), then every claim. Returns the claims.
    boost::json::object validate_id_token(const std::string& token, const std::string& nonce);
    // The userinfo claims; their `sub` must be the ID token's. Throws userinfo_failed /
    // userinfo_sub_mismatch.
    boost::json::object userinfo(const std::string& access_token, const std::string& expected_sub);
    // A bearer JWT the provider issued for idgate's API (validation.hpp: check_bearer_token), whose
    // audience is this connection's client_id. Returns the claims.
    boost::json::object validate_bearer_token(const std::string& token, const std::string& tenant_id);
    // A back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6).
    boost::json::object validate_logout_token(const std::string& token);
    // RP-initiated logout at the provider, when it has an end_session_endpoint (empty otherwise).
    std::string end_session_url(const std::string& post_logout_redirect_uri);

    // Installs a key set without fetching it (the benchmark; a provider whose keys are pinned). Throws
    // sign_in_error("idp_unreachable") when it is not a usable JWKS.
    void set_keys(const std::string& jwks_json);

    // JWKS fetches so far (for tests and metrics).
    std::uint64_t jwks_fetches() const;

    // The signature part shared by ID tokens and logout tokens: returns the verified payload's claims.
    // Public for the benchmark, which measures exactly this with a cached JWKS.
    boost::json::object verify_signature(const std::string& token);

private:
    std::shared_ptr<const detail::key_set> keys_for(const std::string& kid, const std::string& kty);
    std::shared_ptr<const detail::key_set> fetch_keys();

    const connection_config config_;
    const core::clock& clock_;
    const std::chrono::seconds skew_;
    mutable std::mutex mutex_;
    std::optional<endpoints> endpoints_;
    core::time_point endpoints_loaded_{};
    std::shared_ptr<const detail::key_set> keys_;
    std::optional<core::time_point> last_jwks_fetch_;
    std::uint64_t jwks_fetches_ = 0;
};

}  // namespace idgate::oidc
