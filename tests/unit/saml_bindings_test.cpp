// SPDX-License-Identifier: AGPL-3.0-or-later
// The HTTP-POST binding (enveloped XML signatures on what idgate sends and on the IdP's logout messages),
// signed IdP metadata, and a connection whose metadata is refetched: a certificate rollover is taken, and a
// refetch that fails in any way keeps the metadata in force. Keys are made in the test setup.
#include <boost/test/unit_test.hpp>

#include "../support/saml_signing.hpp"
#include "accounts/sso.hpp"
#include "core/crypto.hpp"
#include "core/form.hpp"
#include "saml/connection.hpp"
#include "saml/logout.hpp"
#include "saml/service_provider.hpp"

using namespace idgate;
namespace fx = idgate::test::saml;

namespace {

template <typename F>
std::string code_of(F&& f) {
    try {
        f();
    } catch (const saml::saml_error& e) {
        return e.code();
    }
    return "";
}

std::string der_b64(const std::string& pem) {
    std::string out;
    for (std::size_t at = 0; at < pem.size();) {
        const auto end = pem.find('\n', at);
        const auto line = pem.substr(at, end - at);
        if (line.find("-----") == std::string::npos) out += line;
        at = end == std::string::npos ? pem.size() : end + 1;
    }
    return out;
}

std::string form_of(const saml::post_form& f) {
    std::string body;
    for (const auto& [name, value] : f.fields)
        body += (body.empty() ? "" : "&") + name + "=" + core::percent_encode(value);
    return body;
}

// An IdP's metadata with the given signing certificates, optionally signed (SAML metadata §3).
std::string idp_metadata(const std::vector<std::string>& certificates, const std::string& entity = "https://idp.example.com/md") {
    std::string keys;
    for (const auto& pem : certificates)
        keys += "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
                "<ds:X509Certificate>" + der_b64(pem) + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>";
    return "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" ID=\"_md1\" entityID=\"" + entity +
           "\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">" + keys +
           "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://idp.example.com/slo\"/>"
           "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://idp.example.com/sso\"/>"
           "</md:IDPSSODescriptor></md:EntityDescriptor>";
}

struct keys {
    fx::key_pair sp = fx::make_key("sp"), idp = fx::make_key("idp"), next = fx::make_key("next"),
                 attacker = fx::make_key("attacker");
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(saml_bindings, keys)

BOOST_AUTO_TEST_CASE(post_binding_messages_carry_an_enveloped_signature_that_verifies) {
    const auto now = *core::parse_timestamp("2026-11-22T12:00:00Z");
    const auto request = saml::logout_request_xml("_lo1", "https://sp.example.com/slo", "https://idp.example.com/md",
                                                  "ada", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "_s1", now);
    const auto form = saml::post_message("https://sp.example.com/slo", "SAMLRequest", request, "rs1", idp.key_pem,
                                         idp.cert_pem);
    BOOST_TEST(form.action == "https://sp.example.com/slo");
    BOOST_TEST_REQUIRE(form.fields.size() == 2u);
    BOOST_TEST(form.fields[1].first == "RelayState");
    const auto read = saml::read_post(form_of(form), {idp.cert_pem});
    BOOST_TEST(read.signature_verified);
    BOOST_TEST(read.is_request);
    BOOST_TEST(read.relay_state == "rs1");
    // The signature follows the Issuer (SAML core §5.4.1), and covers the root by its ID.
    BOOST_TEST(read.xml.find("</saml:Issuer><ds:Signature") != std::string::npos, read.xml);
    BOOST_TEST(read.xml.find("URI=\"#_lo1\"") != std::string::npos);
    BOOST_TEST(saml::parse_logout_request(read.xml).name_id == "ada");
    BOOST_TEST(read.xml.find("Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">ada<") != std::string::npos);
    // A NameID issued without a Format goes back without one.
    BOOST_TEST(saml::logout_request_xml("_lo2", "https://sp.example.com/slo", "https://idp.example.com/md", "ada", "", "",
                                        now)
                   .find("<saml:NameID>ada</saml:NameID>") != std::string::npos);

    // Another key's signature, a changed message, two messages: refused, each with its reason.
    BOOST_TEST(code_of([&] { saml::read_post(form_of(form), {attacker.cert_pem}); }) == "bad_signature");
    const auto xml = form.fields[0].second;
    std::string decoded = saml::decode_post_binding(xml);
    const auto tampered_xml = decoded.replace(decoded.find(">ada<"), 5, ">bob<");
    const saml::post_form tampered{form.action, {{"SAMLRequest", core::base64_encode(tampered_xml)}}};
    BOOST_TEST(code_of([&] { saml::read_post(form_of(tampered), {idp.cert_pem}); }) == "bad_signature");
    BOOST_TEST(code_of([&] { saml::read_post(form_of(form) + "&SAMLResponse=eA==", {idp.cert_pem}); }) ==
               "malformed_request");
    // Unsigned: read, and said to be unsigned (the handler refuses an unsigned LogoutRequest).
    const auto plain = saml::post_message("https://sp.example.com/slo", "SAMLRequest", request, "", "", "");
    BOOST_TEST(plain.fields.size() == 1u);
    BOOST_TEST(!saml::read_post(form_of(plain), {idp.cert_pem}).signature_verified);
    // A DTD never gets parsed.
    const saml::post_form dtd{
        form.action, {{"SAMLRequest", core::base64_encode("<!DOCTYPE x [<!ENTITY a \"b\">]><samlp:LogoutRequest/>")}}};
    BOOST_TEST(code_of([&] { saml::read_post(form_of(dtd), {idp.cert_pem}); }) == "malformed_request");

    // Our AuthnRequest by POST, signed with the connection's key and verifiable with its certificate.
    const auto authn = saml::post_message("https://idp.example.com/sso", "SAMLRequest",
                                          saml::authn_request_xml("https://idp.example.com/sso", "_r1",
                                                                  "https://sp.example.com/md", "https://sp.example.com/acs",
                                                                  "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", now),
                                          "state", sp.key_pem, sp.cert_pem);
    const auto signed_request = saml::decode_post_binding(authn.fields[0].second);
    BOOST_TEST(signed_request.find("<ds:X509Certificate>" + der_b64(sp.cert_pem)) != std::string::npos);
    BOOST_TEST(signed_request.find("rsa-sha256") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_auto_post_page_escapes_its_fields_and_allows_only_its_own_script) {
    const auto page = accounts::auto_post_page("https://idp.example.com/sso?a=1&b=\"2\"", {{"SAMLRequest", "PHg+\"<"}});
    BOOST_TEST(page.body.find("action=\"https://idp.example.com/sso?a=1&amp;b=&quot;2&quot;\"") != std::string::npos);
    BOOST_TEST(page.body.find("value=\"PHg+&quot;&lt;\"") != std::string::npos);
    std::string csp;
    for (const auto& [name, value] : page.headers)
        if (name == "Content-Security-Policy") csp = value;
    const std::string script = "document.forms[0].submit();";
    BOOST_TEST(page.body.find("<script>" + script + "</script>") != std::string::npos);
    std::string hash = core::base64url_encode(core::sha256(script));
    for (auto& c : hash) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (hash.size() % 4) hash += '=';
    BOOST_TEST(csp == "default-src 'none'; script-src 'sha256-" + hash + "'");
}

BOOST_AUTO_TEST_CASE(signed_metadata_is_taken_only_from_a_pinned_signer) {
    const auto document = idp_metadata({idp.cert_pem});
    const auto signed_document = saml::sign_xml(document, idp.key_pem, "");
    BOOST_TEST(saml::metadata_is_signed(signed_document));
    BOOST_TEST(!saml::metadata_is_signed(document));
    const auto md = saml::parse_idp_metadata(signed_document, {idp.cert_pem});
    BOOST_TEST(md.signed_by_trusted);
    BOOST_TEST(md.sso_post_url == "https://idp.example.com/sso");
    BOOST_TEST(md.sso_redirect_url.empty());
    BOOST_TEST(md.slo_post_url == "https://idp.example.com/slo");
    BOOST_TEST(code_of([&] { saml::parse_idp_metadata(document, {idp.cert_pem}); }) == "unsigned_metadata");
    BOOST_TEST(code_of([&] { saml::parse_idp_metadata(signed_document, {attacker.cert_pem}); }) == "bad_signature");
    // An attacker who swaps the signing certificate breaks the signature.
    auto swapped = signed_document;
    const auto at = swapped.find(der_b64(idp.cert_pem));
    BOOST_TEST_REQUIRE(at != std::string::npos);
    swapped.replace(at, der_b64(idp.cert_pem).size(), der_b64(attacker.cert_pem));
    BOOST_TEST(code_of([&] { saml::parse_idp_metadata(swapped, {idp.cert_pem}); }) == "bad_signature");

    // The metadata completes a configuration: POST is used where it is the only binding offered.
    saml::connection_config c;
    c.organization = "acme";
    c.name = "x";
    const auto completed = saml::with_metadata(c, md);
    BOOST_TEST((completed.sso_binding == saml::binding::post));
    BOOST_TEST((completed.slo_binding == saml::binding::post));
    BOOST_TEST(completed.idp_entity_id == "https://idp.example.com/md");
    c.requested_sso_binding = saml::binding::redirect;
    BOOST_TEST(code_of([&] { saml::with_metadata(c, md); }) == "invalid_metadata");
    c.requested_sso_binding.reset();
    c.idp_entity_id = "https://another.example.com";
    BOOST_TEST(code_of([&] { saml::with_metadata(c, md); }) == "invalid_metadata");
}

BOOST_AUTO_TEST_CASE(a_refetch_takes_a_rollover_and_keeps_the_metadata_in_force_when_anything_is_wrong) {
    std::string served = idp_metadata({idp.cert_pem});
    bool reachable = true;
    saml::connection_config c;
    c.organization = "acme";
    c.name = "entra";
    c.metadata_url = "https://idp.example.com/federationmetadata.xml";
    saml::connection conn(c, [&](const std::string& url) {
        BOOST_TEST(url == c.metadata_url);
        if (!reachable) throw saml::saml_error("metadata_unavailable", "connection refused");
        return served;
    });
    const auto first = conn.current();
    BOOST_TEST(first->certificates_pem == std::vector<std::string>{idp.cert_pem});
    BOOST_TEST(!conn.refresh().changed);  // the same document: nothing to do

    // Rollover, step 1: the IdP publishes the next certificate beside the current one. Both are trusted.
    served = idp_metadata({idp.cert_pem, next.cert_pem});
    auto r = conn.refresh();
    BOOST_TEST(r.changed);
    BOOST_TEST(r.error == "");
    BOOST_TEST(conn.current()->certificates_pem.size() == 2u);
    BOOST_TEST(first->certificates_pem.size() == 1u);  // a request holding the old snapshot keeps it
    // Step 2: the old certificate goes.
    served = idp_metadata({next.cert_pem});
    BOOST_TEST(conn.refresh().changed);
    BOOST_TEST(conn.current()->certificates_pem == std::vector<std::string>{next.cert_pem});

    // Failures keep what is in force: unreachable, not metadata, another entity, and a signed document
    // whose signer the connection does not trust.
    const auto in_force = conn.current();
    reachable = false;
    BOOST_TEST(conn.refresh().code == "metadata_unavailable");
    reachable = true;
    served = "<html>maintenance</html>";
    BOOST_TEST(conn.refresh().code == "invalid_metadata");
    served = idp_metadata({next.cert_pem}, "https://evil.example.com/md");
    BOOST_TEST(conn.refresh().code == "invalid_metadata");
    served = saml::sign_xml(idp_metadata({attacker.cert_pem}), attacker.key_pem, "");
    BOOST_TEST(conn.refresh().code == "bad_signature");
    BOOST_TEST(conn.current() == in_force);
    // Signed by a certificate the connection trusts: taken.
    served = saml::sign_xml(idp_metadata({next.cert_pem, idp.cert_pem}), next.key_pem, "");
    BOOST_TEST(conn.refresh().changed);
    BOOST_TEST(conn.current()->certificates_pem.size() == 2u);

    // Pinned signers: an unsigned document is refused even on the first fetch, which then fails to start.
    c.metadata_signers_pem = {idp.cert_pem};
    BOOST_TEST(code_of([&] { saml::connection(c, [&](const std::string&) { return idp_metadata({idp.cert_pem}); }); }) ==
               "unsigned_metadata");
    const saml::connection pinned(c, [&](const std::string&) {
        return saml::sign_xml(idp_metadata({next.cert_pem}), idp.key_pem, "");
    });
    BOOST_TEST(pinned.current()->certificates_pem == std::vector<std::string>{next.cert_pem});
}

BOOST_AUTO_TEST_SUITE_END()
