// SPDX-License-Identifier: AGPL-3.0-or-later
// OpenID Connect sign-in end to end: the real idgate binary, a real OpenID Provider (npm oidc-provider, on
// loopback, tests/e2e/oidc-idp.mjs) and a test browser that follows the redirects. Just-in-time
// provisioning through the mapping rules, every refusal with its own reason, key rotation, back-channel
// and RP-initiated logout.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "browser.hpp"
#include "gateway_process.hpp"
#include "http_client.hpp"
#include "node_process.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

const std::string rules = R"(organization: acme
connection: okta-oidc
attributes:
  user_name: {from: [email], transform: [trim, lower], required: true}
  email: {from: [email], transform: [lower], required: true}
  given_name: [given_name]
  family_name: [family_name]
defaults:
  system_role: member
rules:
  - name: okta-admins
    when: {group: idgate-admins}
    grant: {system_role: admin, priority: 100}
  - name: responders
    when: {group_prefix: "sec-"}
    grant:
      scoped: [{project: Incidents, role: editor}]
  - name: no-contractors
    when: {group: contractors}
    deny_login: true
)";

struct oidc_fixture {
    unsigned short idgate_port = 0, idp_port = 0;
    std::filesystem::path dir = make_temp_dir("oidc-rules");
    std::unique_ptr<gateway_process> gw;
    std::unique_ptr<node_process> idp;
    std::vector<std::pair<std::string, std::string>> admin;

    std::string client_key;  // private_key_jwt: the client's key file

    explicit oidc_fixture(bool private_key_jwt = false) {
        require_node_packages("oidc-provider");
        if (private_key_jwt) {
            client_key = (dir / "client.pem").string();
            BOOST_TEST_REQUIRE(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " +
                                            client_key + " > /dev/null 2>&1").c_str()) == 0);
        }
        idgate_port = free_port();
        idp_port = free_port();
        std::ofstream(dir / "okta-oidc.yaml") << rules;
        const std::string sso = "sso:\n  base_url: " + idgate() + "\n  allowed_return_urls: [\"http://127.0.0.1:1/app/\"]\n"
                                "  oidc:\n    - organization: acme\n      connection: okta-oidc\n      issuer: " + issuer() +
                                "\n      client_id: idgate\n" +
                                (private_key_jwt ? "      client_auth: private_key_jwt\n      private_key_file: " + client_key +
                                                       "\n      key_id: idgate-client-key\n"
                                                 : "      client_secret: s3cret-for-tests\n") +
                                "      scopes: [openid, email, profile, groups]\n      userinfo: true\n"
                                "      jwks_refetch_seconds: 1\n";
        gw = std::make_unique<gateway_process>("", "oidc", "mapping:\n  directory: " + dir.string() + "\n" + sso,
                                               idgate_port);
        admin = {{"Authorization", "Bearer " + gw->admin_token()}};
        BOOST_TEST_REQUIRE(call(idgate_port, verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                               .status == 201);
        start_idp("1");
    }
    ~oidc_fixture() {
        idp.reset();
        gw.reset();
        std::filesystem::remove_all(dir);
    }

    // "localhost": browsers keep Secure cookies (idgate's session cookie is one) over plain http only for it.
    std::string idgate() const { return "http://localhost:" + std::to_string(idgate_port); }
    std::string issuer() const { return "http://127.0.0.1:" + std::to_string(idp_port); }
    void start_idp(const std::string& key_seed) {
        idp.reset();
        idp = std::make_unique<node_process>(
            "oidc-idp.mjs", std::vector<std::string>{"--port", std::to_string(idp_port), "--client-id", "idgate",
                                                     "--client-secret", "s3cret-for-tests", "--redirect-uri",
                                                     idgate() + "/sso/oidc/okta-oidc/callback", "--backchannel-uri",
                                                     idgate() + "/sso/oidc/okta-oidc/backchannel-logout",
                                                     "--post-logout-uri", idgate() + "/", "--key-seed", key_seed});
        if (!client_key.empty()) {
            idp.reset();
            idp = std::make_unique<node_process>(
                "oidc-idp.mjs",
                std::vector<std::string>{"--port", std::to_string(idp_port), "--client-id", "idgate", "--redirect-uri",
                                         idgate() + "/sso/oidc/okta-oidc/callback", "--key-seed", key_seed,
                                         "--client-key-file", client_key});
        }
    }
    void idp_control(const std::string& path, const std::string& body) {
        const auto r = call(idp_port, verb::post, path, body, {{"Content-Type", "text/plain"}});
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
    }
    // A sign-in as `who` in a fresh browser; returns where it ended.
    browser::page sign_in(browser& b, const std::string& who, const std::string& return_to = "/app") {
        idp_control("/_test/user", who);
        return b.open(idgate() + "/sso/oidc/okta-oidc/login?return_to=" + return_to);
    }
    reply me(browser& b) { return b.send(verb::get, idgate() + "/api/v1/me"); }
    std::size_t count_audit(const std::string& action) {
        const auto r = call(idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", admin);
        std::size_t n = 0;
        const auto doc = json::parse(r.body);
        for (const auto& rec : doc.at("records").as_array()) n += rec.at("action").as_string() == action;
        return n;
    }
    // The reasons of the refused sign-ins, oldest first, from the organisation's audit trail.
    std::vector<std::string> refusals() {
        const auto r = call(idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", admin);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        std::vector<std::string> out;
        const auto doc = json::parse(r.body);
        for (const auto& rec : doc.at("records").as_array())
            if (rec.at("action").as_string() == "sign_in.refused") {
                const auto details = rec.at("details").is_string() ? json::parse(rec.at("details").as_string())
                                                                    : rec.at("details");
                out.emplace_back(details.at("reason").as_string());
            }
        return out;
    }
};

std::string origin_of(unsigned short port) { return "localhost:" + std::to_string(port); }

}  // namespace

BOOST_AUTO_TEST_SUITE(oidc_sign_in)

BOOST_AUTO_TEST_CASE(a_sign_in_provisions_the_user_with_the_mapped_roles_and_a_second_one_updates_it) {
    oidc_fixture f;
    browser b;
    const auto done = f.sign_in(b, "ada");
    // Back where the sign-in started, with a session.
    BOOST_TEST(done.url == f.idgate() + "/app", done.url << " after " << done.visited.size() << " hops");
    BOOST_TEST(!b.cookie(origin_of(f.idgate_port), "idgate_session").empty());
    // PKCE and state went out; the provider's response came back to our callback.
    BOOST_TEST(done.visited.at(1).find("code_challenge_method=S256") != std::string::npos, done.visited.at(1));
    const auto me = f.me(b);
    BOOST_TEST_REQUIRE(me.status == 200, me.body);
    const auto user = json::parse(me.body);
    BOOST_TEST(user.at("user_name").as_string() == "ada@example.com");  // mapped: lower-cased email
    BOOST_TEST(user.at("given_name").as_string() == "Ada");
    BOOST_TEST(user.at("role").as_string() == "admin");                  // rule okta-admins
    BOOST_TEST(user.at("scoped_roles").as_array().size() == 1u);          // rule responders
    const std::string id{user.at("id").as_string()};
    // Bound by the provider's iss + sub, never by email.
    BOOST_TEST(user.at("identity_providers").at(0).at("subject").as_string() == f.issuer() + "|ada");
    // liboauth2 came with the OpenID Connect adapter (core/adapter.hpp), and nothing of SAML.
    BOOST_TEST(maps_file(f.gw->pid(), "idgate_oidc_adapter.so"));
    BOOST_TEST(maps_file(f.gw->pid(), "liboauth2.so"));
    BOOST_TEST(!maps_file(f.gw->pid(), "idgate_saml_adapter.so"));
    BOOST_TEST(!maps_file(f.gw->pid(), "libxml2.so"));

    // A second sign-in finds the same user through the identity binding.
    browser again;
    BOOST_TEST(f.sign_in(again, "ada").url == f.idgate() + "/app");
    BOOST_TEST(json::parse(f.me(again).body).at("id").as_string() == id);
    // Another person: a member by default.
    browser other;
    f.sign_in(other, "bob");
    BOOST_TEST(json::parse(f.me(other).body).at("role").as_string() == "member");
    BOOST_TEST(f.count_audit("user.create") == 2u);
}

BOOST_AUTO_TEST_CASE(every_refusal_has_its_own_reason_and_the_person_sees_only_a_reference) {
    oidc_fixture f;
    const auto refused = [&](browser::page p) {
        BOOST_TEST(p.status == 403, p.url << ": " << p.body);
        BOOST_TEST(p.body.find("Sign-in failed") != std::string::npos);
        BOOST_TEST(p.body.find(p.last.header("X-Request-Id")) != std::string::npos);  // the reference
        return p;
    };
    // An open redirect is refused before anything else.
    browser b0;
    refused(b0.open(f.idgate() + "/sso/oidc/okta-oidc/login?return_to=https://evil.example/"));
    browser b1;
    BOOST_TEST(b1.open(f.idgate() + "/sso/oidc/okta-oidc/login?return_to=http://127.0.0.1:1/app.evil").status == 403);
    // A callback with a state we never issued.
    browser b2;
    refused(b2.open(f.idgate() + "/sso/oidc/okta-oidc/callback?state=forged&code=x"));
    // A replayed callback: the state is single use.
    browser b3;
    const auto ok = f.sign_in(b3, "bob");
    BOOST_TEST_REQUIRE(ok.url == f.idgate() + "/app");
    std::string callback;
    for (const auto& u : ok.visited)
        if (u.find("/callback?") != std::string::npos) callback = u;
    BOOST_TEST_REQUIRE(!callback.empty());
    browser b4;
    refused(b4.open(callback));
    // The provider refuses (the person declined).
    browser b5;
    refused(f.sign_in(b5, "!deny"));
    // Tampered ID tokens, as an attacker in the middle would send them.
    for (const char* mode :
         {"alg-none", "hs256-public-key", "unknown-key", "wrong-issuer", "wrong-audience", "expired", "wrong-nonce"}) {
        f.idp_control("/_test/forge", mode);
        browser b;
        refused(f.sign_in(b, "bob"));
        BOOST_TEST(f.me(b).status == 401);  // no session came of it
    }
    // Userinfo about someone else.
    f.idp_control("/_test/userinfo-sub", "somebody-else");
    browser b6;
    refused(f.sign_in(b6, "bob"));
    f.idp_control("/_test/userinfo-sub", "");
    // Groups unknown (an overage): a deny rule that cannot be evaluated refuses.
    browser b7;
    refused(f.sign_in(b7, "zoe"));
    // RFC 9207: a response naming another issuer (a mix-up), or none from a provider that announces it.
    for (const std::string& replacement : {std::string("iss=http%3A%2F%2F127.0.0.1%3A1"), std::string("")}) {
        browser b;
        f.idp_control("/_test/user", "bob");
        const auto stopped = b.open(f.idgate() + "/sso/oidc/okta-oidc/login?return_to=/app", {},
                                    f.idgate() + "/sso/oidc/okta-oidc/callback");
        auto tampered = stopped.url;
        const auto at = tampered.find("iss=");
        BOOST_TEST_REQUIRE(at != std::string::npos, tampered);
        const auto end = tampered.find('&', at);
        tampered.replace(at, (end == std::string::npos ? tampered.size() : end + 1) - at,
                         replacement.empty() ? "" : replacement + (end == std::string::npos ? "" : "&"));
        refused(b.open(tampered));
    }

    const std::vector<std::string> expected{"open_redirect",  "open_redirect",    "state_unknown",  "state_reused",
                                            "idp_error",      "alg_not_allowed",  "alg_not_allowed", "unknown_key",
                                            "wrong_issuer",   "wrong_audience",   "expired",         "nonce_mismatch",
                                            "userinfo_sub_mismatch", "groups_unknown", "issuer_mismatch",
                                            "issuer_mismatch"};
    BOOST_TEST(f.refusals() == expected, boost::test_tools::per_element());
    // Nobody was provisioned by a refused sign-in but bob.
    BOOST_TEST(f.count_audit("user.create") == 1u);
}

BOOST_AUTO_TEST_CASE(key_rotation_back_channel_logout_and_rp_initiated_logout) {
    oidc_fixture f;
    browser first;
    BOOST_TEST_REQUIRE(f.sign_in(first, "bob").url == f.idgate() + "/app");

    // The provider rolls its signing key (a restart with a new key): idgate refetches the JWKS once.
    f.start_idp("2");
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past jwks_refetch_seconds
    browser b;
    const auto after = f.sign_in(b, "ada");
    BOOST_TEST(after.url == f.idgate() + "/app", after.body);
    BOOST_TEST_REQUIRE(f.me(b).status == 200);

    // Back-channel logout: the provider ends ada's session; idgate ends the sessions it started from it.
    f.idp_control("/_test/backchannel-logout", "ada");
    BOOST_TEST(f.me(b).status == 401);
    BOOST_TEST(f.me(first).status == 200);  // bob's session is not touched

    // RP-initiated logout: the local session ends, then the browser goes to the provider's end_session.
    const auto out = first.send(verb::get, f.idgate() + "/sso/oidc/okta-oidc/logout");
    BOOST_TEST(out.status == 303);
    BOOST_TEST(out.header("Location").rfind(f.issuer() + "/session/end?client_id=idgate", 0) == 0u, out.header("Location"));
    BOOST_TEST(out.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
    BOOST_TEST(f.me(first).status == 401);
}

BOOST_AUTO_TEST_CASE(private_key_jwt_client_authentication) {
    // No shared secret: the code is exchanged with a JWT signed by the client's key (RFC 7523).
    oidc_fixture f(/*private_key_jwt=*/true);
    browser b;
    const auto done = f.sign_in(b, "ada");
    BOOST_TEST(done.url == f.idgate() + "/app", done.url << ": " << done.body.substr(0, 300));
    BOOST_TEST(f.me(b).status == 200);
}

BOOST_AUTO_TEST_CASE(a_real_browser_signs_in_and_sees_only_a_reference_on_failure) {
    // Debian's chromium, driven by playwright-core (tests/e2e/browser-sign-in.mjs).
    require_node_packages("playwright-core");
    if (!std::filesystem::exists("/usr/bin/chromium")) {
        const char* require = std::getenv("IDGATE_REQUIRE_E2E");
        BOOST_TEST_REQUIRE(!(require && std::string(require) == "1"), "IDGATE_REQUIRE_E2E=1 but /usr/bin/chromium is missing");
        std::cerr << "SKIPPED: the browser test needs Debian's chromium\n";
        std::exit(77);
    }
    oidc_fixture f;
    const std::string command = "node " + (e2e_directory() / "browser-sign-in.mjs").string() + " --idgate " +
                                f.idgate() + " --idp " + f.issuer() + " --connection okta-oidc 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[512];
    while (const auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0, out);
    BOOST_TEST(out.find("ok the page says nothing about why") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
