// SPDX-License-Identifier: AGPL-3.0-or-later
#include "oidc/provider.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "core/log.hpp"
#include "liboauth2_adapter.hpp"

namespace idgate::oidc {
namespace {

[[noreturn]] void fail(const char* code, const std::string& detail) { throw sign_in_error(code, detail); }

boost::json::object json_object_or_fail(const std::string& text, const char* code, const std::string& what) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) fail(code, what + " is not a JSON object");
    return std::move(v.as_object());
}

std::string text_of(const boost::json::object& o, std::string_view name) { return claim_text(o, name); }

}  // namespace

provider::provider(connection_config config, const core::clock& clock, std::chrono::seconds clock_skew)
    : config_(std::move(config)), clock_(clock), skew_(clock_skew) {}
provider::~provider() = default;

endpoints provider::current_endpoints() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    if (endpoints_ && now - endpoints_loaded_ < std::chrono::seconds(config_.discovery_refresh_seconds))
        return *endpoints_;
    endpoints e;
    e.issuer = config_.issuer;
    e.authorization = config_.authorization_endpoint;
    e.token = config_.token_endpoint;
    e.jwks = config_.jwks_uri;
    e.userinfo = config_.userinfo_endpoint;
    e.end_session = config_.end_session_endpoint;
    const bool complete =
        !e.jwks.empty() && (config_.verify_only || (!e.authorization.empty() && !e.token.empty()));
    if (!complete) {
        // OpenID Connect Discovery 1.0 §4: {issuer}/.well-known/openid-configuration, whose issuer must be
        // exactly ours (§4.3), or an attacker-controlled document could redirect every endpoint.
        std::string url = config_.issuer;
        if (!url.empty() && url.back() == '/') url.pop_back();
        url += "/.well-known/openid-configuration";
        const auto reply = detail::http_get(url, config_.http_timeout_seconds);
        if (!reply.sent || reply.status != 200) {
            if (endpoints_) {  // keep serving the last good document while the provider is away
                core::log::warn("oidc discovery refresh failed; keeping the cached document",
                                {{"connection", config_.name}, {"status", reply.status}});
                return *endpoints_;
            }
            fail("idp_unreachable", "the discovery document at " + url + " could not be fetched (" +
                                        (reply.sent ? "HTTP " + std::to_string(reply.status) : reply.error) + ")");
        }
        const auto doc = json_object_or_fail(reply.body, "idp_unreachable", "the discovery document");
        if (text_of(doc, "issuer") != config_.issuer)
            fail("wrong_issuer", "the discovery document names issuer '" + text_of(doc, "issuer") + "', not '" +
                                     config_.issuer + "'");
        const auto pick = [&doc](std::string& field, const char* key) {
            if (field.empty()) field = text_of(doc, key);
        };
        pick(e.authorization, "authorization_endpoint");
        pick(e.token, "token_endpoint");
        pick(e.jwks, "jwks_uri");
        pick(e.userinfo, "userinfo_endpoint");
        pick(e.end_session, "end_session_endpoint");
        if (const auto* iss = doc.if_contains("authorization_response_iss_parameter_supported"); iss && iss->is_bool())
            e.iss_parameter_supported = iss->as_bool();
        if (e.authorization.empty() || e.token.empty() || e.jwks.empty())
            fail("idp_unreachable", "the discovery document lacks authorization, token or JWKS endpoints");
    }
    endpoints_ = e;
    endpoints_loaded_ = now;
    return e;
}

std::string provider::authorization_url(const std::string& redirect_uri, const std::string& state,
                                        const std::string& nonce, const std::string& code_challenge) {
    const auto e = current_endpoints();
    std::string scopes;
    for (const auto& s : config_.scopes) scopes += (scopes.empty() ? "" : " ") + s;
    std::vector<std::pair<std::string, std::string>> params{{"response_type", "code"},
                                                            {"client_id", config_.client_id},
                                                            {"redirect_uri", redirect_uri},
                                                            {"scope", scopes},
                                                            {"state", state},
                                                            {"nonce", nonce},
                                                            {"code_challenge", code_challenge},
                                                            {"code_challenge_method", "S256"}};
    if (!config_.claims.empty()) {
        boost::json::object wanted;
        for (const auto& c : config_.claims) wanted[c] = nullptr;  // null: "requested, as a voluntary claim"
        params.emplace_back("claims", boost::json::serialize(boost::json::object{{"id_token", wanted}}));
    }
    const auto query = core::form_encode(params);
    return e.authorization + (e.authorization.find('?') == std::string::npos ? "?" : "&") + query;
}

token_response provider::exchange_code(const std::string& code, const std::string& code_verifier,
                                       const std::string& redirect_uri) {
    const auto e = current_endpoints();
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "authorization_code"},
                                                          {"code", code},
                                                          {"redirect_uri", redirect_uri},
                                                          {"code_verifier", code_verifier}};
    detail::http_reply reply;
    if (config_.auth == connection_config::client_auth::private_key_jwt) {
        // RFC 7523 §2.2 / OIDC Core §9: iss = sub = client_id, aud = the token endpoint, single-use jti.
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
        boost::json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
        if (!config_.key_id.empty()) header["kid"] = config_.key_id;
        const boost::json::object claims{{"iss", config_.client_id}, {"sub", config_.client_id}, {"aud", e.token},
                                          {"jti", core::base64url_encode(core::random_bytes(18))},
                                          {"iat", now}, {"exp", now + 120}};
        std::string assertion;
        try {
            assertion = detail::sign_rs256(boost::json::serialize(header), boost::json::serialize(claims),
                                           config_.private_key_pem);
        } catch (const std::exception& ex) {
            fail("token_exchange_failed", ex.what());
        }
        form.emplace_back("client_id", config_.client_id);
        form.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.emplace_back("client_assertion", assertion);
        reply = detail::http_post_form(e.token, form, config_.http_timeout_seconds);
    } else if (config_.auth == connection_config::client_auth::post) {
        form.emplace_back("client_id", config_.client_id);
        form.emplace_back("client_secret", config_.client_secret);
        reply = detail::http_post_form(e.token, form, config_.http_timeout_seconds);
    } else {
        reply = detail::http_post_form(e.token, form, config_.http_timeout_seconds, config_.client_id,
                                       config_.client_secret);
    }
    if (!reply.sent) fail("token_exchange_failed", "the token endpoint did not answer: " + reply.error);
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(reply.body, ec);
    const auto* body = !ec && parsed.is_object() ? &parsed.as_object() : nullptr;
    if (reply.status != 200 || !body) {
        const auto error = body ? text_of(*body, "error") + ": " + text_of(*body, "error_description") : reply.body.substr(0, 200);
        fail("token_exchange_failed", "the token endpoint answered HTTP " + std::to_string(reply.status) + " (" + error + ")");
    }
    token_response out{text_of(*body, "id_token"), text_of(*body, "access_token")};
    if (out.id_token.empty()) fail("token_exchange_failed", "the token response has no id_token");
    return out;
}

std::shared_ptr<const detail::key_set> provider::fetch_keys() {
    const auto e = current_endpoints();
    const auto reply = detail::http_get(e.jwks, config_.http_timeout_seconds);
    if (!reply.sent || reply.status != 200)
        fail("idp_unreachable", "the JWKS at " + e.jwks + " could not be fetched");
    try {
        return detail::key_set::parse(reply.body);
    } catch (const std::exception& ex) {
        fail("idp_unreachable", std::string("the provider's JWKS is unusable: ") + ex.what());
    }
}

std::shared_ptr<const detail::key_set> provider::keys_for(const std::string& kid, const std::string& kty) {
    {
        std::lock_guard lock(mutex_);
        const auto age = last_jwks_fetch_ ? clock_.now() - *last_jwks_fetch_ : std::chrono::seconds(0);
        // The key set is also refreshed on the discovery schedule, so that revoked keys do not linger.
        const bool stale = keys_ && last_jwks_fetch_ && age >= std::chrono::seconds(config_.discovery_refresh_seconds);
        if (keys_ && keys_->has(kid, kty) && !stale) return keys_;
        // An unknown key: the provider may have rotated. Refetch, but not more often than configured,
        // so that tokens with made-up key ids cannot turn idgate into a load generator.
        const auto now = clock_.now();
        if (!stale && keys_ && last_jwks_fetch_ && now - *last_jwks_fetch_ < std::chrono::seconds(config_.jwks_refetch_seconds))
            return keys_;
        last_jwks_fetch_ = now;
        ++jwks_fetches_;
    }
    std::shared_ptr<const detail::key_set> fresh;
    try {
        fresh = fetch_keys();
    } catch (const sign_in_error& e) {
        // A scheduled refresh while the provider is away: keep signing people in with the keys we have.
        std::lock_guard lock(mutex_);
        if (!keys_ || !keys_->has(kid, kty)) throw;
        core::log::warn("oidc: JWKS refresh failed; keeping the cached keys", {{"connection", config_.name}, {"error", e.what()}});
        return keys_;
    }
    std::lock_guard lock(mutex_);
    keys_ = fresh;
    return keys_;
}

void provider::set_keys(const std::string& jwks_json) {
    std::shared_ptr<const detail::key_set> keys;
    try {
        keys = detail::key_set::parse(jwks_json);
    } catch (const std::exception& e) {
        fail("idp_unreachable", std::string("unusable JWKS: ") + e.what());
    }
    std::lock_guard lock(mutex_);
    keys_ = std::move(keys);
    last_jwks_fetch_ = clock_.now();
}

std::uint64_t provider::jwks_fetches() const {
    std::lock_guard lock(mutex_);
    return jwks_fetches_;
}

boost::json::object provider::verify_signature(const std::string& token) {
    const auto jws = split_jws(token);
    const auto kty = check_header(jws.header, config_.algorithms);
    const auto kid = claim_text(jws.header, "kid");
    const auto keys = keys_for(kid, kty);
    if (!keys->has(kid, kty))
        fail("unknown_key", "the token is signed by key '" + kid + "', which the provider's JWKS does not hold");
    if (!keys->verify(token, kid, kty)) fail("bad_signature", "the token's signature does not verify");
    return json_object_or_fail(jws.payload_json, "malformed_token", "the token's payload");
}

boost::json::object provider::validate_id_token(const std::string& token, const std::string& nonce) {
    auto claims = verify_signature(token);
    check_id_token(claims, {config_.issuer, config_.client_id, nonce, clock_.now(), skew_});
    return claims;
}

boost::json::object provider::userinfo(const std::string& access_token, const std::string& expected_sub) {
    const auto e = current_endpoints();
    if (e.userinfo.empty()) fail("userinfo_failed", "the provider has no userinfo endpoint");
    const auto reply = detail::http_get(e.userinfo, config_.http_timeout_seconds, access_token);
    if (!reply.sent || reply.status != 200)
        fail("userinfo_failed", "the userinfo endpoint answered " +
                                    (reply.sent ? "HTTP " + std::to_string(reply.status) : reply.error));
    auto claims = json_object_or_fail(reply.body, "userinfo_failed", "the userinfo response");
    // OIDC Core §5.3.2: the userinfo sub must be the ID token's, or the response belongs to someone else.
    if (text_of(claims, "sub") != expected_sub)
        fail("userinfo_sub_mismatch", "the userinfo response is about '" + text_of(claims, "sub") +
                                          "', not the signed-in '" + expected_sub + "'");
    return claims;
}

boost::json::object provider::validate_bearer_token(const std::string& token, const std::string& tenant_id) {
    auto claims = verify_signature(token);
    check_bearer_token(claims, {config_.issuer, config_.client_id, tenant_id, clock_.now(), skew_});
    return claims;
}

boost::json::object provider::validate_logout_token(const std::string& token) {
    auto claims = verify_signature(token);
    check_logout_token(claims, {config_.issuer, config_.client_id, "", clock_.now(), skew_});
    return claims;
}

std::string provider::end_session_url(const std::string& post_logout_redirect_uri) {
    const auto e = current_endpoints();
    if (e.end_session.empty()) return {};
    // RP-Initiated Logout 1.0 §2: client_id identifies us when no id_token_hint is kept.
    return e.end_session + (e.end_session.find('?') == std::string::npos ? "?" : "&") +
           core::form_encode({{"client_id", config_.client_id}, {"post_logout_redirect_uri", post_logout_redirect_uri}});
}

}  // namespace idgate::oidc
