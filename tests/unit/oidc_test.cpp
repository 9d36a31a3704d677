// SPDX-License-Identifier: AGPL-3.0-or-later
// The OpenID Connect decisions idgate makes itself (liboauth2 only checks signatures): algorithms, every
// ID token and logout token claim, return_to URLs, the identity key and the groups overage. Table tests.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "core/crypto.hpp"
#include "oidc/handlers.hpp"
#include "oidc/validation.hpp"

using namespace idgate;
namespace json = boost::json;

namespace {

const core::time_point now = core::time_point(std::chrono::seconds(1'800'000'000));
const oidc::id_token_expectations expected{"https://idp.example.com", "idgate", "n-123", now, std::chrono::seconds(60)};

json::object good_claims() {
    return json::parse(R"({"iss": "https://idp.example.com", "sub": "00u1", "aud": "idgate", "iat": 1800000000,
                           "exp": 1800000600, "nonce": "n-123"})")
        .as_object();
}

// The code a failing check throws, or "" when it passes.
template <typename F>
std::string code_of(F&& check) {
    try {
        check();
    } catch (const oidc::sign_in_error& e) {
        return e.code();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(oidc_validation)

BOOST_AUTO_TEST_CASE(id_token_claims_are_checked_one_rule_at_a_time) {
    BOOST_TEST(code_of([] { oidc::check_id_token(good_claims(), expected); }) == "");
    struct row {
        const char* name;
        std::function<void(json::object&)> change;
        const char* code;
    };
    const std::vector<row> table{
        {"another issuer", [](auto& c) { c["iss"] = "https://evil.example.com"; }, "wrong_issuer"},
        {"issuer with a trailing slash", [](auto& c) { c["iss"] = "https://idp.example.com/"; }, "wrong_issuer"},
        {"no issuer", [](auto& c) { c.erase("iss"); }, "missing_claim"},
        {"another audience", [](auto& c) { c["aud"] = "other"; }, "wrong_audience"},
        {"audience list without us", [](auto& c) { c["aud"] = json::array{"a", "b"}; }, "wrong_audience"},
        {"several audiences, no azp", [](auto& c) { c["aud"] = json::array{"idgate", "b"}; }, "wrong_azp"},
        {"several audiences, azp another", [](auto& c) {
             c["aud"] = json::array{"idgate", "b"};
             c["azp"] = "b";
         }, "wrong_azp"},
        {"azp another, one audience", [](auto& c) { c["azp"] = "b"; }, "wrong_azp"},
        {"expired", [](auto& c) { c["exp"] = 1800000000 - 61; }, "expired"},
        {"no exp", [](auto& c) { c.erase("exp"); }, "missing_claim"},
        {"exp as text", [](auto& c) { c["exp"] = "1800000600"; }, "missing_claim"},
        {"issued in the future", [](auto& c) { c["iat"] = 1800000000 + 120; }, "issued_in_future"},
        {"no iat", [](auto& c) { c.erase("iat"); }, "missing_claim"},
        {"no sub", [](auto& c) { c.erase("sub"); }, "missing_claim"},
        {"no nonce", [](auto& c) { c.erase("nonce"); }, "nonce_mismatch"},
        {"another nonce", [](auto& c) { c["nonce"] = "n-999"; }, "nonce_mismatch"},
    };
    for (const auto& r : table) {
        auto claims = good_claims();
        r.change(claims);
        BOOST_TEST(code_of([&] { oidc::check_id_token(claims, expected); }) == r.code, r.name);
    }
    // Within the clock skew: accepted.
    auto skewed = good_claims();
    skewed["exp"] = 1800000000 - 30;
    skewed["iat"] = 1800000000 + 30;
    BOOST_TEST(code_of([&] { oidc::check_id_token(skewed, expected); }) == "");
    // Several audiences with azp naming us: accepted.
    auto multi = good_claims();
    multi["aud"] = json::array{"idgate", "api"};
    multi["azp"] = "idgate";
    BOOST_TEST(code_of([&] { oidc::check_id_token(multi, expected); }) == "");
}

BOOST_AUTO_TEST_CASE(only_allowed_asymmetric_algorithms_pass_the_header) {
    const std::vector<std::string> allowed{"RS256", "ES256"};
    const auto header = [](const char* text) { return json::parse(text).as_object(); };
    BOOST_TEST(oidc::check_header(header(R"({"alg": "RS256", "kid": "k"})"), allowed) == "RSA");
    BOOST_TEST(oidc::check_header(header(R"({"alg": "ES256"})"), allowed) == "EC");
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({"alg": "none"})"), allowed); }) == "alg_not_allowed");
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({"alg": "HS256"})"), allowed); }) == "alg_not_allowed");
    // HMAC is refused even when a configuration lists it.
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({"alg": "HS256"})"), {"HS256", "RS256"}); }) ==
               "alg_not_allowed");
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({"alg": "RS512"})"), allowed); }) == "alg_not_allowed");
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({})"), allowed); }) == "alg_not_allowed");
    BOOST_TEST(code_of([&] { oidc::check_header(header(R"({"alg": "RS256", "crit": ["exp"]})"), allowed); }) ==
               "malformed_token");
}

BOOST_AUTO_TEST_CASE(compact_tokens_are_split_strictly) {
    const auto part = [](const char* json_text) { return core::base64url_encode(json_text); };
    const auto token = part(R"({"alg":"RS256"})") + "." + part(R"({"sub":"x"})") + "." + core::base64url_encode("sig");
    const auto jws = oidc::split_jws(token);
    BOOST_TEST(jws.payload_json == R"({"sub":"x"})");
    BOOST_TEST(jws.signature == "sig");
    for (const std::string& bad : {std::string("a.b"), token + ".extra", std::string("!!.??.**"),
                                  part("not json") + "." + part("{}") + ".c2ln"})
        BOOST_TEST(code_of([&] { oidc::split_jws(bad); }) == "malformed_token", bad);
}

BOOST_AUTO_TEST_CASE(logout_tokens_follow_back_channel_logout_rules) {
    const auto good = [] {
        auto c = json::parse(R"({"iss": "https://idp.example.com", "aud": "idgate", "iat": 1800000000, "jti": "j1",
                                 "sid": "s1", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})")
                     .as_object();
        return c;
    };
    BOOST_TEST(code_of([&] { oidc::check_logout_token(good(), expected); }) == "");
    auto with_nonce = good();
    with_nonce["nonce"] = "n";
    BOOST_TEST(code_of([&] { oidc::check_logout_token(with_nonce, expected); }) == "invalid_logout_token");
    auto no_event = good();
    no_event.erase("events");
    BOOST_TEST(code_of([&] { oidc::check_logout_token(no_event, expected); }) == "invalid_logout_token");
    auto nobody = good();
    nobody.erase("sid");
    BOOST_TEST(code_of([&] { oidc::check_logout_token(nobody, expected); }) == "invalid_logout_token");
    auto no_jti = good();
    no_jti.erase("jti");
    BOOST_TEST(code_of([&] { oidc::check_logout_token(no_jti, expected); }) == "missing_claim");
    auto wrong_aud = good();
    wrong_aud["aud"] = "x";
    BOOST_TEST(code_of([&] { oidc::check_logout_token(wrong_aud, expected); }) == "wrong_audience");
}

// SCIM bearer JWTs an identity provider issues (INTEROP E12; RFC 9068 §4): Entra ID's v1 token shape.
BOOST_AUTO_TEST_CASE(scim_bearer_tokens_need_the_issuer_audience_lifetime_and_tenant) {
    const oidc::bearer_expectations entra{"https://sts.windows.net/t-1/", "8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "t-1",
                                          core::time_point(std::chrono::seconds(1800000000)), std::chrono::seconds(60)};
    const auto good = [] {
        return json::parse(R"({"iss": "https://sts.windows.net/t-1/", "aud": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
                                "iat": 1799999900, "nbf": 1799999900, "exp": 1800003600, "tid": "t-1",
                                "appid": "00000014-0000-0000-c000-000000000000"})")
            .as_object();
    };
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(good(), entra); }) == "");
    auto listed = good();
    listed["aud"] = json::array{"other", "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"};
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(listed, entra); }) == "");
    auto other_aud = good();
    other_aud["aud"] = "https://graph.microsoft.com";
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(other_aud, entra); }) == "wrong_audience");
    auto other_iss = good();
    other_iss["iss"] = "https://sts.windows.net/t-1";  // exact match only: no trailing-slash leniency
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(other_iss, entra); }) == "wrong_issuer");
    auto other_tenant = good();
    other_tenant["tid"] = "t-2";
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(other_tenant, entra); }) == "wrong_tenant");
    auto expired = good();
    expired["exp"] = 1800000000 - 61;
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(expired, entra); }) == "expired");
    auto within_skew = good();
    within_skew["exp"] = 1800000000 - 30;
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(within_skew, entra); }) == "");
    auto no_exp = good();
    no_exp.erase("exp");
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(no_exp, entra); }) == "missing_claim");
    auto early = good();
    early["nbf"] = 1800000000 + 120;
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(early, entra); }) == "not_yet_valid");
    auto future = good();
    future["iat"] = 1800000000 + 120;
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(future, entra); }) == "issued_in_future");
    // No tenant configured: tid is not looked at.
    auto any_tenant = entra;
    any_tenant.tenant_id.clear();
    BOOST_TEST(code_of([&] { oidc::check_bearer_token(other_tenant, any_tenant); }) == "");
}

BOOST_AUTO_TEST_CASE(return_to_is_a_local_path_or_under_an_allowed_url) {
    const std::vector<std::string> allowed{"https://app.example.com", "https://admin.example.com/console/"};
    struct row {
        const char* url;
        bool ok;
    };
    const std::vector<row> table{
        {"/", true},
        {"/app/settings?tab=users", true},
        {"//evil.example", false},
        {"/\\evil.example", false},
        {"https://app.example.com", true},
        {"https://app.example.com/welcome", true},
        {"https://app.example.com?x=1", true},
        {"https://app.example.com.evil.example/", false},
        {"https://app.example.com@evil.example/", false},
        {"https://admin.example.com/console/users", true},
        {"https://admin.example.com/other", false},
        {"http://app.example.com/", false},
        {"javascript:alert(1)", false},
        {"https://evil.example/", false},
        {"/path with space", false},
        {"", false},
    };
    for (const auto& r : table) BOOST_TEST(oidc::return_url_allowed(r.url, allowed) == r.ok, r.url);
}

BOOST_AUTO_TEST_CASE(identity_keys_and_the_groups_overage) {
    oidc::connection_config okta;
    const auto claims = json::parse(R"({"iss": "https://acme.okta.com", "sub": "00u1", "tid": "t1", "oid": "o1",
                                        "email": "a@b.c", "groups": ["Admins", "Eng"], "amr": ["pwd", "mfa"]})")
                            .as_object();
    BOOST_TEST(oidc::subject_of(okta, claims) == "https://acme.okta.com|00u1");
    oidc::connection_config entra;
    entra.identity = oidc::connection_config::identity_key::tid_oid;
    BOOST_TEST(oidc::subject_of(entra, claims) == "t1|o1");
    BOOST_TEST(code_of([&] { oidc::subject_of(entra, json::parse(R"({"sub": "x"})").as_object()); }) == "missing_claim");

    const auto who = oidc::identity_from_claims(claims);
    BOOST_TEST_REQUIRE(who.groups.has_value());
    BOOST_TEST((*who.groups == std::vector<std::string>{"Admins", "Eng"}));
    BOOST_TEST((who.attributes.at("amr") == std::vector<std::string>{"pwd", "mfa"}));
    // Entra's overage: a link instead of the groups. Unknown, never "member of nothing".
    const auto overage = oidc::identity_from_claims(json::parse(R"({"sub": "x", "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/..."}}})").as_object());
    BOOST_TEST(!overage.groups.has_value());
    BOOST_TEST(!oidc::identity_from_claims(json::parse(R"({"sub": "x", "hasgroups": true})").as_object()).groups.has_value());
    // No groups claim at all: unknown too (the provider may simply not be configured to send them).
    BOOST_TEST(!oidc::identity_from_claims(json::parse(R"({"sub": "x"})").as_object()).groups.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
