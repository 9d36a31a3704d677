// SPDX-License-Identifier: AGPL-3.0-or-later
// SCIM with bearer JWTs the identity provider issues itself (INTEROP E12: Entra ID's provisioning token
// instead of a shared secret), end to end: a real OpenID Provider (npm oidc-provider on loopback,
// tests/e2e/oidc-idp.mjs) issues client-credentials access tokens (RFC 9068 JWTs); idgate verifies them
// against the provider's published keys and accepts them for the configured organisation only.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "node_process.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

struct jwt_fixture {
    unsigned short idp_port = free_port();
    std::unique_ptr<node_process> idp;
    std::unique_ptr<gateway_process> gw;
    std::vector<std::pair<std::string, std::string>> admin;

    jwt_fixture() {
        require_node_packages("oidc-provider");
        idp = std::make_unique<node_process>(
            "oidc-idp.mjs",
            std::vector<std::string>{"--port", std::to_string(idp_port), "--client-id", "web", "--client-secret",
                                     "unused", "--redirect-uri", "http://127.0.0.1:1/cb", "--api-client-id", "pusher",
                                     "--api-client-secret", "psecret", "--api-tenant", "tenant-1"});
        // No jwks_uri: the keys come from the issuer's discovery document.
        gw = std::make_unique<gateway_process>("", "scimjwt",
                                               "scim:\n  jwt_bearer:\n    - organization: acme\n"
                                               "      connection: entra-push\n      issuer: " + issuer() +
                                                   "\n      audience: urn:idgate:scim:acme\n      tenant_id: tenant-1\n");
        admin = {{"Authorization", "Bearer " + gw->admin_token()}};
        for (const char* org : {R"({"slug":"acme","name":"Acme"})", R"({"slug":"other","name":"Other"})"})
            BOOST_TEST_REQUIRE(call(gw->port(), verb::post, "/api/v1/organizations", org, admin).status == 201);
    }

    std::string issuer() const { return "http://127.0.0.1:" + std::to_string(idp_port); }

    // A client-credentials token from the provider for `resource`.
    std::string token_for(const std::string& resource) {
        const auto r = call(idp_port, verb::post, "/token",
                            "grant_type=client_credentials&scope=scim&resource=" + resource,
                            {{"Authorization", "Basic cHVzaGVyOnBzZWNyZXQ="},
                             {"Content-Type", "application/x-www-form-urlencoded"}});
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return std::string(json::parse(r.body).at("access_token").as_string());
    }

    reply scim(verb v, const std::string& path, const std::string& token, const std::string& body = "") {
        return call(gw->port(), v, path, body,
                    {{"Authorization", "Bearer " + token}, {"Content-Type", "application/scim+json"}});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scim_jwt_bearer)

BOOST_FIXTURE_TEST_CASE(e12_a_token_the_provider_issued_pushes_users_into_its_organization, jwt_fixture) {
    const auto token = token_for("urn:idgate:scim:acme");
    BOOST_TEST(scim(verb::get, "/scim/v2/acme/Users", token).status == 200);
    const auto created = scim(verb::post, "/scim/v2/acme/Users", token,
                              R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",)"
                              R"("externalId":"00u-ada","active":true})");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    // Audited as the API client the provider issued the token to.
    const auto audit = call(gw->port(), verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", admin);
    BOOST_TEST_REQUIRE(audit.status == 200, audit.body);
    int creates = 0;
    const auto doc = json::parse(audit.body);
    for (const auto& record : doc.at("records").as_array())
        if (record.at("action").as_string() == "user.create") {
            ++creates;
            BOOST_TEST(record.at("actor").at("id").as_string() == "jwt:pusher", audit.body);
            BOOST_TEST(record.at("actor").at("kind").as_string() == "scim_client");
        }
    BOOST_TEST(creates == 1);
    // The same token again: from the token cache, still valid.
    BOOST_TEST(scim(verb::get, "/scim/v2/acme/Users?filter=userName%20eq%20%22ada@example.com%22", token).status == 200);
}

BOOST_FIXTURE_TEST_CASE(e12_tokens_for_another_audience_forged_or_for_another_organization_are_refused, jwt_fixture) {
    // Another audience: a token the provider issued for some other API.
    const auto elsewhere = scim(verb::get, "/scim/v2/acme/Users", token_for("urn:some:other:api"));
    BOOST_TEST(elsewhere.status == 401);
    BOOST_TEST(elsewhere.header("WWW-Authenticate").find("invalid_token") != std::string::npos);
    BOOST_TEST(elsewhere.body.find("wrong_audience") != std::string::npos, elsewhere.body);
    // A signature that does not verify: one character inside it changed (not the last one, whose low
    // bits are base64 padding that decoders may ignore).
    auto forged = token_for("urn:idgate:scim:acme");
    auto& c = forged[forged.size() - 10];
    c = c == 'A' ? 'Q' : 'A';
    const auto bad = scim(verb::get, "/scim/v2/acme/Users", forged);
    BOOST_TEST(bad.status == 401);
    BOOST_TEST(bad.body.find("bad_signature") != std::string::npos, bad.body);
    // A JWT from an issuer nobody configured.
    const std::string unknown =
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSIsImF1ZCI6InVybjppZGdhdGU6c2NpbTphY21lIn0.c2ln";
    BOOST_TEST(scim(verb::get, "/scim/v2/acme/Users", unknown).status == 401);
    // A valid token of acme on another organisation's URL: the same 404 as an unknown organisation.
    const auto token = token_for("urn:idgate:scim:acme");
    BOOST_TEST(scim(verb::get, "/scim/v2/other/Users", token).status == 404);
    // A SCIM credential, not an administrator one: the admin API refuses it, as it does SCIM tokens.
    BOOST_TEST(call(gw->port(), verb::get, "/api/v1/organizations", "", {{"Authorization", "Bearer " + token}}).status == 403);
}

BOOST_AUTO_TEST_SUITE_END()
