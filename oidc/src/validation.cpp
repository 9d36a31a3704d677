// SPDX-License-Identifier: AGPL-3.0-or-later
#include "oidc/validation.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

#include "core/crypto.hpp"

namespace idgate::oidc {
namespace {

[[noreturn]] void fail(const char* code, const std::string& detail) { throw sign_in_error(code, detail); }

std::optional<std::int64_t> number_claim(const boost::json::object& claims, std::string_view name) {
    const auto* v = claims.if_contains(name);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
    return std::nullopt;
}

std::int64_t seconds_since_epoch(core::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// iss exactly (OIDC Core §3.1.3.7 step 2, RFC 9068 §4): no normalising of trailing slashes or case.
void check_issuer(const boost::json::object& claims, const std::string& expected) {
    const auto iss = claim_text(claims, "iss");
    if (iss.empty()) fail("missing_claim", "the token has no 'iss'");
    if (iss != expected) fail("wrong_issuer", "the token was issued by '" + iss + "', not '" + expected + "'");
}

// The token's audiences (a string or an array of them); throws when it has none or `ours` is not one.
std::vector<std::string> check_audience(const boost::json::object& claims, const std::string& ours,
                                        const char* ours_is) {
    const auto* aud = claims.if_contains("aud");
    if (!aud) fail("missing_claim", "the token has no 'aud'");
    std::vector<std::string> audiences;
    if (aud->is_string()) {
        audiences.emplace_back(aud->as_string());
    } else if (aud->is_array()) {
        for (const auto& a : aud->as_array())
            if (a.is_string()) audiences.emplace_back(a.as_string());
    }
    if (std::find(audiences.begin(), audiences.end(), ours) == audiences.end())
        fail("wrong_audience", std::string("the token is not meant for ") + ours_is + " '" + ours + "'");
    return audiences;
}

// iss, aud (and azp), iat: what ID tokens and logout tokens share.
void check_common(const boost::json::object& claims, const id_token_expectations& e) {
    check_issuer(claims, e.issuer);
    const auto audiences = check_audience(claims, e.client_id, "client");
    // Several audiences: azp must name us (§3.1.3.7 steps 4-5); when present it must name us anyway.
    const auto azp = claim_text(claims, "azp");
    if ((audiences.size() > 1 && azp.empty()) || (!azp.empty() && azp != e.client_id))
        fail("wrong_azp", "the token's authorized party is '" + azp + "', not '" + e.client_id + "'");

    const auto now = seconds_since_epoch(e.now);
    const auto skew = e.skew.count();
    const auto iat = number_claim(claims, "iat");
    if (!iat) fail("missing_claim", "the token has no numeric 'iat'");
    if (*iat > now + skew) fail("issued_in_future", "the token says it was issued in the future (clock skew?)");
}

}  // namespace

std::string claim_text(const boost::json::object& claims, std::string_view name) {
    const auto* v = claims.if_contains(name);
    if (!v) return {};
    if (v->is_string()) return std::string(v->as_string());
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    if (v->is_bool()) return v->as_bool() ? "true" : "false";
    return {};
}

compact_jws split_jws(const std::string& token) {
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (token.size() > 64 * 1024 || second == std::string::npos || token.find('.', second + 1) != std::string::npos)
        fail("malformed_token", "not a compact JWS (three base64url parts)");
    compact_jws out;
    if (!core::base64url_decode(std::string_view(token).substr(0, first), out.header_json) ||
        !core::base64url_decode(std::string_view(token).substr(first + 1, second - first - 1), out.payload_json) ||
        !core::base64url_decode(std::string_view(token).substr(second + 1), out.signature))
        fail("malformed_token", "a part of the token is not base64url");
    boost::system::error_code ec;
    auto header = boost::json::parse(out.header_json, ec);
    if (ec || !header.is_object()) fail("malformed_token", "the token's header is not a JSON object");
    out.header = std::move(header.as_object());
    return out;
}

std::string check_header(const boost::json::object& header, const std::vector<std::string>& allowed) {
    const auto alg = claim_text(header, "alg");
    // RFC 8725 §3.1: the algorithm is ours to choose, never the token's. "none" and HMAC are refused
    // outright: idgate holds no shared secret with the provider for ID tokens, and an HMAC "keyed" with
    // the provider's public key is the classic forgery.
    if (alg.empty() || alg == "none" || alg.rfind("HS", 0) == 0 ||
        std::find(allowed.begin(), allowed.end(), alg) == allowed.end())
        fail("alg_not_allowed", "the token is signed with '" + (alg.empty() ? std::string("(none)") : alg) +
                                    "', which this connection does not accept");
    // RFC 7515 §4.1.11: an extension we do not understand must not be ignored.
    if (header.contains("crit")) fail("malformed_token", "the token has critical header extensions");
    if (alg.rfind("RS", 0) == 0 || alg.rfind("PS", 0) == 0) return "RSA";
    if (alg.rfind("ES", 0) == 0) return "EC";
    fail("alg_not_allowed", "the algorithm '" + alg + "' is not supported");
}

void check_id_token(const boost::json::object& claims, const id_token_expectations& e) {
    check_common(claims, e);
    if (claim_text(claims, "sub").empty()) fail("missing_claim", "the ID token has no 'sub'");
    const auto exp = number_claim(claims, "exp");
    if (!exp) fail("missing_claim", "the ID token has no numeric 'exp'");
    if (*exp <= seconds_since_epoch(e.now) - e.skew.count()) fail("expired", "the ID token has expired");
    // §3.1.3.7 step 11: the nonce we sent must come back, so a token cannot be replayed into another
    // sign-in.
    const auto nonce = claim_text(claims, "nonce");
    if (nonce.empty()) fail("nonce_mismatch", "the ID token carries no nonce");
    if (nonce != e.nonce) fail("nonce_mismatch", "the ID token's nonce is not the one this sign-in sent");
}

void check_logout_token(const boost::json::object& claims, const id_token_expectations& e) {
    check_common(claims, e);
    if (claim_text(claims, "jti").empty()) fail("missing_claim", "the logout token has no 'jti'");
    if (claims.contains("nonce")) fail("invalid_logout_token", "a logout token must not carry a nonce");
    const auto* events = claims.if_contains("events");
    if (!events || !events->is_object() ||
        !events->as_object().contains("http://schemas.openid.net/event/backchannel-logout"))
        fail("invalid_logout_token", "the logout token lacks the back-channel logout event");
    if (claim_text(claims, "sub").empty() && claim_text(claims, "sid").empty())
        fail("invalid_logout_token", "the logout token names neither 'sub' nor 'sid'");
    if (const auto exp = number_claim(claims, "exp"); exp && *exp <= seconds_since_epoch(e.now) - e.skew.count())
        fail("expired", "the logout token has expired");
}

void check_bearer_token(const boost::json::object& claims, const bearer_expectations& e) {
    check_issuer(claims, e.issuer);
    check_audience(claims, e.audience, "audience");
    const auto now = seconds_since_epoch(e.now);
    const auto skew = e.skew.count();
    const auto exp = number_claim(claims, "exp");
    if (!exp) fail("missing_claim", "the token has no numeric 'exp'");
    if (*exp <= now - skew) fail("expired", "the token has expired");
    if (const auto nbf = number_claim(claims, "nbf"); nbf && *nbf > now + skew)
        fail("not_yet_valid", "the token is not valid yet (nbf; clock skew?)");
    if (const auto iat = number_claim(claims, "iat"); iat && *iat > now + skew)
        fail("issued_in_future", "the token says it was issued in the future (clock skew?)");
    if (!e.tenant_id.empty() && claim_text(claims, "tid") != e.tenant_id)
        fail("wrong_tenant", "the token belongs to tenant '" + claim_text(claims, "tid") + "', not '" + e.tenant_id + "'");
}

}  // namespace idgate::oidc
