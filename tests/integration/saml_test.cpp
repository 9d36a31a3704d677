// SPDX-License-Identifier: AGPL-3.0-or-later
// SAML 2.0 sign-in end to end: the real idgate binary, a real SAML identity provider (npm samlify, on
// loopback, tests/e2e/saml-idp.mjs) configured from each other's metadata, and a test browser that follows
// the redirects and posts the forms. An Okta-style connection (metadata file, HTTP-Redirect): SP-initiated
// sign-in with just-in-time provisioning and mapped roles, a second sign-in updating the same user, a
// replayed response refused, Single Logout both ways, IdP-initiated sign-in only when opted in. An
// Entra-style connection (metadata URL, HTTP-POST, claim URIs, examples/mapping/entra.yaml): the same
// journey by POST, and a signing-certificate rollover picked up from the metadata URL.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "browser.hpp"
#include "core/crypto.hpp"
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

struct saml_options {
    bool idp_initiated = false;
    // "entra": Entra ID's claims, the HTTP-POST binding, metadata by URL (refetched every second), idgate's
    // own signing key, and the mapping rules of examples/mapping/entra.yaml.
    bool entra = false;
};

// Standard base64 (RFC 4648 §4), what the POST binding carries.
using idgate::core::base64_encode;
std::string base64_decode(const std::string& text) {
    std::string b, out;
    for (const char c : text)
        if (c != '=' && c != '\n' && c != '\r') b.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
    BOOST_TEST_REQUIRE(idgate::core::base64url_decode(b, out));
    return out;
}

void make_key(const std::filesystem::path& key, const std::filesystem::path& cert, const std::string& name) {
    BOOST_TEST_REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " +
                                    cert.string() + " -days 2 -subj /CN=" + name + " > /dev/null 2>&1")
                                       .c_str()) == 0);
}

struct saml_fixture {
    unsigned short idgate_port = free_port();
    std::filesystem::path dir = make_temp_dir("saml-e2e");
    std::string connection;
    std::unique_ptr<node_process> idp;
    std::unique_ptr<gateway_process> gw;
    std::vector<std::pair<std::string, std::string>> admin;

    explicit saml_fixture(saml_options o = {}) : connection(o.entra ? "entra-prod" : "okta-saml") {
        require_node_packages("samlify");
        const auto key = dir / "idp.key", cert = dir / "idp.crt";
        make_key(key, cert, "saml-idp");
        make_key(dir / "next.key", dir / "next.crt", "saml-idp-next");
        std::vector<std::string> idp_args{"--port", "0", "--key-file", key.string(), "--cert-file", cert.string(),
                                          "--next-key-file", (dir / "next.key").string(), "--next-cert-file",
                                          (dir / "next.crt").string(), "--sp-metadata",
                                          idgate() + "/sso/saml/" + connection + "/metadata"};
        if (o.entra) idp_args.insert(idp_args.end(), {"--style", "entra", "--binding", "post"});
        idp = std::make_unique<node_process>("saml-idp.mjs", idp_args);
        std::filesystem::create_directories(dir / "mapping");
        std::string sso = "sso:\n  base_url: " + idgate() + "\n  saml:\n    - organization: acme\n      connection: " +
                          connection + "\n" + (o.idp_initiated ? "      allow_idp_initiated: true\n" : "");
        if (o.entra) {
            // Entra: "App Federation Metadata Url"; idgate signs its requests with its own key pair.
            make_key(dir / "sp.key", dir / "sp.crt", "idgate-sp");
            sso += "      metadata_url: http://127.0.0.1:" + std::to_string(idp->port()) + "/metadata\n"
                   "      metadata_refresh_seconds: 1\n"
                   "      sp_key_file: " + (dir / "sp.key").string() + "\n      sp_certificate_file: " +
                   (dir / "sp.crt").string() + "\n";
            std::filesystem::copy_file(std::filesystem::path(IDGATE_SOURCE_DIR) / "examples" / "mapping" / "entra.yaml",
                                       dir / "mapping" / "entra-prod.yaml");
        } else {
            // The IdP's metadata, as its admin console would offer it for download.
            const auto metadata = call(idp->port(), verb::get, "/metadata");
            BOOST_TEST_REQUIRE(metadata.status == 200);
            std::ofstream(dir / "idp-metadata.xml") << metadata.body;
            sso += "      metadata_file: " + (dir / "idp-metadata.xml").string() + "\n";
            std::ofstream(dir / "mapping" / "okta-saml.yaml") << rules;
        }
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
        const auto page = b.open(idgate() + "/sso/saml/" + connection + "/login?return_to=/app");
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
    // The XML libraries came with the SAML adapter (core/adapter.hpp), and nothing of OpenID Connect.
    BOOST_TEST(maps_file(f.gw->pid(), "idgate_saml_adapter.so"));
    BOOST_TEST(maps_file(f.gw->pid(), "libxmlsec1"));
    BOOST_TEST(!maps_file(f.gw->pid(), "idgate_oidc_adapter.so"));

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
    saml_fixture f({.idp_initiated = true});
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

BOOST_AUTO_TEST_CASE(entra_style_by_post_with_claim_uris_from_the_metadata_url) {
    saml_fixture f({.entra = true});
    const std::string idp = "http://127.0.0.1:" + std::to_string(f.idp->port());
    // idgate publishes both bindings for logout, and its signing certificate.
    const auto md = call(f.idgate_port, verb::get, "/sso/saml/entra-prod/metadata");
    BOOST_TEST(md.body.find("AuthnRequestsSigned=\"true\"") != std::string::npos);
    BOOST_TEST(md.body.find("bindings:HTTP-POST\" Location=\"" + f.idgate() + "/sso/saml/entra-prod/slo") !=
               std::string::npos);

    browser b;
    // idgate -> a page that posts the signed AuthnRequest -> the IdP (which checks the signature against
    // idgate's metadata) -> a page that posts the Response -> idgate's ACS.
    const auto request_page = f.to_the_form(b, "ada");
    BOOST_TEST(request_page.url == f.idgate() + "/sso/saml/entra-prod/login?return_to=/app");
    BOOST_TEST(request_page.body.find("name=\"SAMLRequest\"") != std::string::npos);
    const auto response_page = b.submit_form(request_page);
    BOOST_TEST_REQUIRE(response_page.status == 200, response_page.url << ": " << response_page.body.substr(0, 300));
    BOOST_TEST(response_page.url == idp + "/sso");
    const auto done = b.submit_form(response_page);
    BOOST_TEST(done.url == f.idgate() + "/app", done.url << ": " << done.body.substr(0, 300));
    const auto me = f.me(b);
    BOOST_TEST_REQUIRE(me.status == 200, me.body);
    const auto user = json::parse(me.body);
    // examples/mapping/entra.yaml: the name claim (UPN) is the user name, the app role Admin grants admin,
    // the SOC group's object id grants the Active Response permission and a scoped role.
    BOOST_TEST(user.at("user_name").as_string() == "ada@example.com");
    BOOST_TEST(user.at("given_name").as_string() == "Ada");
    BOOST_TEST(user.at("family_name").as_string() == "Lovelace");
    BOOST_TEST(user.at("role").as_string() == "admin");
    BOOST_TEST(me.body.find("\"scope\":\"SOC\",\"role\":\"owner\"") != std::string::npos, me.body);
    // The stable key is Entra's object id (INTEROP S5), not the UPN that the NameID carries.
    BOOST_TEST(user.at("identity_providers").at(0).at("subject").as_string() == "0b7f2d1e-6a3c-4f1b-9e2d-5c8a7b6f4e31");
    // A permission the rules grant counts once the organisation defines it (here by Ada, now an admin);
    // the next sign-in brings it.
    const auto defined = b.send(verb::post, f.idgate() + "/api/v1/permissions", R"({"name":"active_response"})",
                                {{"Origin", f.idgate()}, {"Content-Type", "application/json"}});
    BOOST_TEST_REQUIRE(defined.status == 201, defined.body);
    BOOST_TEST_REQUIRE(b.submit_form(b.submit_form(f.to_the_form(b, "ada"))).url == f.idgate() + "/app");
    const auto again = json::parse(f.me(b).body);
    BOOST_TEST(again.at("id") == user.at("id"));
    BOOST_TEST(again.at("permissions").as_array().size() == 1u);
    BOOST_TEST(json::serialize(again.at("permissions")).find("active_response") != std::string::npos);

    // SP-initiated logout by POST: idgate's signed LogoutRequest, checked by the IdP, answered by POST.
    const auto to_idp = b.open(f.idgate() + "/sso/saml/entra-prod/logout?return_to=/bye");
    BOOST_TEST_REQUIRE(to_idp.body.find("name=\"SAMLRequest\"") != std::string::npos, to_idp.body.substr(0, 300));
    BOOST_TEST(f.me(b).status == 401);
    const auto answer = b.submit_form(to_idp);
    BOOST_TEST_REQUIRE(answer.body.find("name=\"SAMLResponse\"") != std::string::npos, answer.body.substr(0, 300));
    const auto back = b.submit_form(answer);
    BOOST_TEST(back.url == f.idgate() + "/bye", back.url);

    // IdP-initiated logout by POST ends the session; the same request with its signature removed does not.
    browser c;
    BOOST_TEST_REQUIRE(c.submit_form(c.submit_form(f.to_the_form(c, "ada"))).url == f.idgate() + "/app");
    const auto logout_page = c.open(idp + "/_test/logout?who=ada");
    BOOST_TEST_REQUIRE(logout_page.body.find("name=\"SAMLRequest\"") != std::string::npos);
    auto stripped = logout_page;
    {
        // The form's SAMLRequest, base64 of a signed LogoutRequest: without its ds:Signature it is unsigned.
        const std::string field = "name=\"SAMLRequest\" value=\"";
        const auto start = stripped.body.find(field) + field.size();
        const auto end = stripped.body.find('"', start);
        std::string xml = base64_decode(stripped.body.substr(start, end - start));
        const auto sig = xml.find("<ds:Signature"), sig_end = xml.find("</ds:Signature>");
        BOOST_TEST_REQUIRE((sig != std::string::npos && sig_end != std::string::npos), xml);
        xml.erase(sig, sig_end + 15 - sig);
        stripped.body.replace(start, end - start, base64_encode(xml));
    }
    browser mallory;
    BOOST_TEST(mallory.submit_form(stripped).status == 403);
    BOOST_TEST(f.me(c).status == 200);
    const auto idp_answer = c.submit_form(logout_page);
    BOOST_TEST(f.me(c).status == 401);
    BOOST_TEST(idp_answer.body.find("name=\"SAMLResponse\"") != std::string::npos, idp_answer.body.substr(0, 300));
    BOOST_TEST(c.submit_form(idp_answer).body == "signed out at the IdP");
    const auto audit = call(f.idgate_port, verb::get, "/api/v1/organizations/acme/audit?limit=1000", "", f.admin);
    BOOST_TEST(audit.body.find("sign_in.single_logout") != std::string::npos);
    BOOST_TEST(audit.body.find("\"reason\":\"unsigned\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_signing_certificate_rollover_is_picked_up_from_the_metadata_url) {
    saml_fixture f({.entra = true});
    const auto sign_in = [&] {
        browser b;
        const auto done = b.submit_form(b.submit_form(f.to_the_form(b, "bob")));
        return done.url == f.idgate() + "/app" && f.me(b).status == 200;
    };
    BOOST_TEST_REQUIRE(sign_in());
    // The IdP now signs with a new key and publishes only its certificate. idgate refetches the metadata
    // every second (metadata_refresh_seconds: 1): sign-ins work again without a restart or a config edit.
    BOOST_TEST_REQUIRE(call(f.idp->port(), verb::post, "/_test/rotate").status == 200);
    bool recovered = false;
    for (int i = 0; i < 40 && !recovered; ++i) {
        recovered = sign_in();
        if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    BOOST_TEST(recovered);
}

BOOST_AUTO_TEST_SUITE_END()
