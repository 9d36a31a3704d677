// SPDX-License-Identifier: AGPL-3.0-or-later
// SAML 2.0 sign-in end to end: the real idgate binary, a real SAML identity provider (npm samlify, on
// loopback, tests/e2e/saml-idp.mjs) configured from each other's metadata, and a test browser that follows
// the redirect and posts the form. SP-initiated sign-in with just-in-time provisioning and mapped roles, a
// second sign-in updating the same user, and a replayed response refused.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "browser.hpp"
#include "gateway_process.hpp"
#include "http_client.hpp"
#include "node_process.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

const std::string rules = R"(organization: acme
connection: okta-saml
attributes:
  user_name: {from: [email], transform: [trim, lower], required: true}
  email: {from: [email], transform: [lower], required: true}
defaults:
  system_role: member
rules:
  - name: okta-admins
    when: {group: idgate-admins}
    grant: {system_role: admin, priority: 100}
)";

struct saml_fixture {
    unsigned short idgate_port = free_port();
    std::filesystem::path dir = make_temp_dir("saml-e2e");
    std::unique_ptr<node_process> idp;
    std::unique_ptr<gateway_process> gw;
    std::vector<std::pair<std::string, std::string>> admin;

    explicit saml_fixture(bool idp_initiated = false) {
        require_node_packages("samlify");
        const auto key = dir / "idp.key", cert = dir / "idp.crt";
        BOOST_TEST_REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " +
                                        cert.string() + " -days 2 -subj /CN=saml-idp > /dev/null 2>&1")
                                           .c_str()) == 0);
        idp = std::make_unique<node_process>(
            "saml-idp.mjs", std::vector<std::string>{"--port", "0", "--key-file", key.string(), "--cert-file",
                                                     cert.string(), "--sp-metadata",
                                                     idgate() + "/sso/saml/okta-saml/metadata"});
        // The IdP's metadata, as its admin console would offer it for download.
        const auto metadata = call(idp->port(), verb::get, "/metadata");
        BOOST_TEST_REQUIRE(metadata.status == 200);
        std::ofstream(dir / "idp-metadata.xml") << metadata.body;
        std::filesystem::create_directories(dir / "mapping");
        std::ofstream(dir / "mapping" / "okta-saml.yaml") << rules;
        const std::string sso = "sso:\n  base_url: " + idgate() + "\n  saml:\n    - organization: acme\n"
                                "      connection: okta-saml\n      metadata_file: " + (dir / "idp-metadata.xml").string() + "\n" +
                                (idp_initiated ? "      allow_idp_initiated: true\n" : "");
        gw = std::make_unique<gateway_process>("", "saml", "mapping:\n  directory: " + (dir / "mapping").string() + "\n" + sso,
                                               idgate_port);
        admin = {{"Authorization", "Bearer " + gw->admin_token()}};
        BOOST_TEST_REQUIRE(call(idgate_port, verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                               .status == 201);
    }
    ~saml_fixture() {
        gw.reset();
        idp.reset();
        std::filesystem::remove_all(dir);
    }
    std::string idgate() const { return "http://localhost:" + std::to_string(idgate_port); }
    // SP-initiated: idgate -> IdP (redirect) -> a page that posts the response to idgate's ACS.
    browser::page to_the_form(browser& b, const std::string& who) {
        BOOST_TEST_REQUIRE(call(idp->port(), verb::post, "/_test/user", who).status == 200);
        const auto page = b.open(idgate() + "/sso/saml/okta-saml/login?return_to=/app");
        BOOST_TEST_REQUIRE(page.status == 200, page.url << ": " << page.body.substr(0, 300));
        return page;
    }
    reply me(browser& b) { return b.send(verb::get, idgate() + "/api/v1/me"); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(saml_sign_in)

BOOST_AUTO_TEST_CASE(sp_initiated_sign_in_provisions_the_user_and_a_replay_is_refused) {
    saml_fixture f;
    // idgate's metadata is what the IdP was configured with.
    const auto md = call(f.idgate_port, verb::get, "/sso/saml/okta-saml/metadata");
    BOOST_TEST(md.status == 200);
    BOOST_TEST(md.body.find("AssertionConsumerService") != std::string::npos);

    browser b;
    const auto form = f.to_the_form(b, "ada");
    BOOST_TEST(form.visited.at(1).find("SAMLRequest=") != std::string::npos);
    const auto done = b.submit_form(form);
    BOOST_TEST(done.url == f.idgate() + "/app", done.url << ": " << done.body.substr(0, 300));
    const auto me = f.me(b);
    BOOST_TEST_REQUIRE(me.status == 200, me.body);
    const auto user = json::parse(me.body);
    BOOST_TEST(user.at("user_name").as_string() == "ada@example.com");
    BOOST_TEST(user.at("role").as_string() == "admin");
    BOOST_TEST(user.at("identity_providers").at(0).at("subject").as_string() == "ada-persistent-id-1");
    const std::string id{user.at("id").as_string()};

    // The same response posted again (a replay): refused, with its own reason.
    browser thief;
    const auto replayed = thief.submit_form(form);
    BOOST_TEST(replayed.status == 403);
    BOOST_TEST(replayed.body.find("Sign-in failed") != std::string::npos);
    BOOST_TEST(f.me(thief).status == 401);

    // A second sign-in updates the same user.
    browser again;
    BOOST_TEST(again.submit_form(f.to_the_form(again, "ada")).url == f.idgate() + "/app");
    BOOST_TEST(json::parse(f.me(again).body).at("id").as_string() == id);
    // Someone else: a member.
    browser other;
    other.submit_form(f.to_the_form(other, "bob"));
    BOOST_TEST(json::parse(f.me(other).body).at("role").as_string() == "member");

    const auto audit = call(f.idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", f.admin);
    BOOST_TEST(audit.body.find("\"reason\":\"state_reused\"") != std::string::npos, audit.body.substr(0, 2000));
}

BOOST_AUTO_TEST_CASE(single_logout_both_ways) {
    saml_fixture f;
    const std::string idp = "http://127.0.0.1:" + std::to_string(f.idp->port());
    // IdP-initiated: the IdP sends the browser with a signed LogoutRequest; idgate ends the session and
    // answers the IdP with a LogoutResponse.
    browser b;
    BOOST_TEST_REQUIRE(b.submit_form(f.to_the_form(b, "ada")).url == f.idgate() + "/app");
    BOOST_TEST_REQUIRE(f.me(b).status == 200);
    // An unsigned LogoutRequest (its signature stripped) is refused, and ends nothing.
    browser mallory;
    const auto request = mallory.send(verb::get, idp + "/_test/logout?who=ada");
    auto unsigned_url = request.header("Location");
    unsigned_url = unsigned_url.substr(0, unsigned_url.find("&SigAlg="));
    BOOST_TEST(mallory.open(unsigned_url).status == 403);
    BOOST_TEST(f.me(b).status == 200);
    const auto out = b.open(idp + "/_test/logout?who=ada");
    BOOST_TEST(out.url.rfind(idp + "/slo?SAMLResponse=", 0) == 0u, out.url);
    BOOST_TEST(out.body == "signed out at the IdP");
    BOOST_TEST(f.me(b).status == 401);

    // SP-initiated: idgate ends its session, the IdP its own, and the browser comes back to return_to.
    browser c;
    BOOST_TEST_REQUIRE(c.submit_form(f.to_the_form(c, "bob")).url == f.idgate() + "/app");
    const auto back = c.open(f.idgate() + "/sso/saml/okta-saml/logout?return_to=/bye");
    BOOST_TEST(back.url == f.idgate() + "/bye", back.url);
    BOOST_TEST(back.visited.size() >= 3u);  // idgate -> IdP SLO -> idgate SLO -> /bye
    BOOST_TEST(f.me(c).status == 401);
    const auto audit = call(f.idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", f.admin);
    BOOST_TEST(audit.body.find("sign_in.single_logout") != std::string::npos);
    BOOST_TEST(audit.body.find("\"reason\":\"unsigned\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(idp_initiated_sign_in_only_when_the_connection_opts_in) {
    {
        saml_fixture f;
        browser b;
        const auto form = b.open("http://127.0.0.1:" + std::to_string(f.idp->port()) + "/_test/idp-initiated");
        BOOST_TEST_REQUIRE(form.status == 200);
        const auto refused = b.submit_form(form);
        BOOST_TEST(refused.status == 403);
        BOOST_TEST(f.me(b).status == 401);
        const auto audit = call(f.idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", f.admin);
        BOOST_TEST(audit.body.find("\"reason\":\"unsolicited_response\"") != std::string::npos);
    }
    saml_fixture f(/*idp_initiated=*/true);
    browser b;
    const auto form = b.open("http://127.0.0.1:" + std::to_string(f.idp->port()) + "/_test/idp-initiated");
    const auto done = b.submit_form(form);
    BOOST_TEST(done.url == f.idgate() + "/", done.url << ": " << done.body.substr(0, 300));
    BOOST_TEST_REQUIRE(f.me(b).status == 200);
    // The assertion is one-time: posting it again is a replay.
    browser thief;
    BOOST_TEST(thief.submit_form(form).status == 403);
    const auto audit = call(f.idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", f.admin);
    BOOST_TEST(audit.body.find("\"reason\":\"replayed\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
