// SPDX-License-Identifier: AGPL-3.0-or-later
// The assertion consumer's validation of a SAML Response: one test per rule and one per known attack, each
// refused with its own reason. Keys are made in the test setup; responses are signed with xmlsec1.
#include <boost/test/unit_test.hpp>

#include "../support/saml_signing.hpp"
#include "core/crypto.hpp"
#include "saml/logout.hpp"
#include "saml/service_provider.hpp"

using namespace idgate;
namespace fx = idgate::test::saml;

namespace {

struct saml_fixture {
    fx::key_pair idp = fx::make_key("idp"), attacker = fx::make_key("attacker"), next = fx::make_key("next");
    saml::idp_trust trust{"https://idp.example.com/metadata", {idp.cert_pem}, false};
    saml::expectations expected;
    saml_fixture() {
        expected.sp_entity_id = "https://sp.example.com/metadata";
        expected.acs_url = "https://sp.example.com/acs";
        expected.in_response_to = "_req1";
        expected.now = *core::parse_timestamp("2026-11-22T12:00:30Z");
    }
    std::string signed_assertion(const fx::response_parts& p = {}, const fx::key_pair* key = nullptr,
                                 const fx::signing& how = {}) {
        return fx::sign(fx::response_xml(p), p.assertion_id, key ? *key : idp, how);
    }
    std::string code_of(const std::string& xml) {
        try {
            saml::validate_response(xml, trust, expected);
        } catch (const saml::saml_error& e) {
            return e.code();
        }
        return "";
    }
};

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("fixture lacks: " + from);
    return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(saml_response, saml_fixture)

BOOST_AUTO_TEST_CASE(a_signed_assertion_is_read_from_what_the_signature_covers) {
    const auto a = saml::validate_response(signed_assertion(), trust, expected);
    BOOST_TEST(a.assertion_signed);
    BOOST_TEST(!a.response_signed);
    BOOST_TEST(a.name_id == "ada@example.com");
    BOOST_TEST(a.id == "_a1");
    BOOST_TEST(a.session_index == "_s1");
    BOOST_TEST((a.attributes.at("groups") == std::vector<std::string>{"idgate-admins", "sec-ir"}));
    BOOST_TEST(core::format_timestamp(a.valid_until) == "2026-11-22T12:05:00.000Z");
    // A signed response (covering the assertion) works too, and both together.
    fx::response_parts p;
    BOOST_TEST(saml::validate_response(fx::sign(fx::response_xml(p), "_r1", idp), trust, expected).response_signed);
    const auto both = fx::sign(signed_assertion(), "_r1", idp);
    const auto b = saml::validate_response(both, trust, expected);
    BOOST_TEST((b.response_signed && b.assertion_signed));
}

BOOST_AUTO_TEST_CASE(each_check_has_its_own_reason) {
    struct row {
        const char* name;
        std::function<void(fx::response_parts&)> change;
        const char* code;
    };
    const std::vector<row> table{
        {"wrong issuer", [](auto& p) { p.issuer = "https://evil.example.com"; }, "wrong_issuer"},
        {"wrong audience", [](auto& p) { p.audience = "https://other-sp.example.com"; }, "wrong_audience"},
        {"wrong destination", [](auto& p) { p.destination = "https://other-sp.example.com/acs"; }, "wrong_destination"},
        {"wrong recipient", [](auto& p) { p.recipient = "https://other-sp.example.com/acs"; }, "wrong_recipient"},
        {"answers another request", [](auto& p) { p.in_response_to = "_someone_elses"; }, "wrong_in_response_to"},
        {"expired", [](auto& p) { p.not_on_or_after = "2026-11-22T11:58:00Z"; }, "expired"},
        {"not yet valid", [](auto& p) { p.not_before = "2026-11-22T12:05:00Z"; }, "not_yet_valid"},
        {"IdP refused", [](auto& p) { p.status = "urn:oasis:names:tc:SAML:2.0:status:Requester"; }, "status_not_success"},
        {"empty NameID", [](auto& p) { p.name_id = ""; }, "missing_name_id"},
    };
    for (const auto& r : table) {
        fx::response_parts p;
        r.change(p);
        BOOST_TEST(code_of(signed_assertion(p)) == r.code, r.name);
    }
    // Within the clock skew (60 s): accepted.
    fx::response_parts late;
    late.not_on_or_after = "2026-11-22T11:59:45Z";
    BOOST_TEST(code_of(signed_assertion(late)) == "");
    // IdP-initiated: refused unless the connection opts in.
    fx::response_parts unsolicited;
    unsolicited.in_response_to = "";
    expected.in_response_to.reset();
    BOOST_TEST(code_of(signed_assertion(unsolicited)) == "unsolicited_response");
    expected.allow_unsolicited = true;
    BOOST_TEST(code_of(signed_assertion(unsolicited)) == "");
}

BOOST_AUTO_TEST_CASE(signatures_by_anyone_but_the_connection_are_refused) {
    // Signed by an attacker who put their own certificate in KeyInfo: the key is never taken from the message.
    BOOST_TEST(code_of(signed_assertion({}, &attacker)) == "bad_signature");
    // The same with the bare key (RSAKeyValue) in KeyInfo.
    fx::signing bare;
    bare.key_value = true;
    BOOST_TEST(code_of(signed_assertion({}, &attacker, bare)) == "bad_signature");
    // Nothing signed at all.
    BOOST_TEST(code_of(fx::response_xml({})) == "unsigned");
    // A tampered NameID after signing.
    BOOST_TEST(code_of(replace(signed_assertion(), ">ada@example.com<", ">admin@example.com<")) == "bad_signature");
    // Certificate rollover: a second trusted certificate verifies too.
    trust.certificates_pem.push_back(next.cert_pem);
    BOOST_TEST(code_of(signed_assertion({}, &next)) == "");
}

BOOST_AUTO_TEST_CASE(only_allowed_algorithms_and_transforms) {
    fx::signing sha1;
    sha1.sha1 = true;
    BOOST_TEST(code_of(signed_assertion({}, nullptr, sha1)) == "disallowed_algorithm");
    trust.allow_sha1 = true;  // a connection that opts in
    BOOST_TEST(code_of(signed_assertion({}, nullptr, sha1)) == "");
    trust.allow_sha1 = false;
    fx::signing xslt;
    xslt.extra_transform = "http://www.w3.org/TR/1999/REC-xslt-19991116";
    BOOST_TEST(code_of(signed_assertion({}, nullptr, xslt)) == "disallowed_transform");
}

BOOST_AUTO_TEST_CASE(signature_wrapping_is_refused) {
    const auto genuine = signed_assertion();
    const std::string evil = "<saml:Assertion ID=\"_evil\" Version=\"2.0\" IssueInstant=\"2026-11-22T12:00:00Z\">"
                             "<saml:Issuer>https://idp.example.com/metadata</saml:Issuer><saml:Subject><saml:NameID>"
                             "admin@example.com</saml:NameID></saml:Subject></saml:Assertion>";
    // XSW: a second, unsigned assertion before the signed one.
    BOOST_TEST(code_of(replace(genuine, "<saml:Assertion ID=\"_a1\"", evil + "<saml:Assertion ID=\"_a1\"")) ==
               "multiple_assertions");
    // XSW: the signed assertion hidden in an Extensions element, an evil one in its place.
    auto hidden = replace(genuine, "<saml:Assertion ID=\"_a1\"", "<samlp:Extensions><saml:Assertion ID=\"_a1\"");
    hidden = replace(hidden, "</saml:Assertion></samlp:Response>", "</saml:Assertion></samlp:Extensions>" + evil +
                                                                      "</samlp:Response>");
    BOOST_TEST(code_of(hidden) == "multiple_assertions");
    // XSW: the evil assertion reuses the signed one's ID, so "#_a1" could resolve to either.
    auto same_id = replace(evil, "_evil", "_a1");
    BOOST_TEST(code_of(replace(genuine, "<samlp:Status>", "<samlp:Extensions>" + same_id +
                                                             "</samlp:Extensions><samlp:Status>")) == "multiple_assertions");
    fx::response_parts dup;
    dup.response_id = "_a1";  // two elements with one ID
    BOOST_TEST(code_of(fx::sign(fx::response_xml(dup), "_a1", idp)) == "duplicate_id");
    // A signature that covers another element than the one it sits in.
    fx::signing elsewhere;
    elsewhere.reference_uri = "#_r1";
    BOOST_TEST(code_of(signed_assertion({}, nullptr, elsewhere)) == "wrong_reference");
    // A signed response with an extra unsigned assertion inside; the reverse: an unsigned response around a
    // signed assertion and an unsigned one.
    fx::response_parts extra;
    extra.extra_in_response = evil;
    BOOST_TEST(code_of(fx::sign(fx::response_xml(extra), "_r1", idp)) == "multiple_assertions");
    BOOST_TEST(code_of(signed_assertion(extra)) == "multiple_assertions");
}

BOOST_AUTO_TEST_CASE(a_namespaced_attribute_does_not_stand_in_for_a_saml_attribute) {
    // SAML's attributes (Recipient, InResponseTo, NotOnOrAfter...) carry no namespace; an x:Recipient that
    // the IdP signed for other reasons is not the Recipient.
    fx::response_parts p;
    auto xml = fx::response_xml(p);
    const auto at = xml.find(" Recipient=\"");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    xml.replace(at, 12, " xmlns:x=\"urn:example:x\" x:Recipient=\"");
    BOOST_TEST(code_of(fx::sign(xml, p.assertion_id, idp)) == "wrong_recipient");
}

BOOST_AUTO_TEST_CASE(a_comment_in_the_name_id_cannot_truncate_it) {
    // The IdP signed "ada@example.com.evil.com" (an attacker's own account there); a comment inserted
    // afterwards keeps the signature valid (exclusive c14n drops comments) but must not cut the value.
    fx::response_parts p;
    p.name_id = "ada@example.com.evil.com";
    const auto tampered = replace(signed_assertion(p), ">ada@example.com.evil.com</saml:NameID>",
                                  ">ada@example.com<!---->.evil.com</saml:NameID>");
    const auto a = saml::validate_response(tampered, trust, expected);
    BOOST_TEST(a.name_id == "ada@example.com.evil.com");
}

BOOST_AUTO_TEST_CASE(hostile_xml_is_refused_before_anything_else) {
    const std::string xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&x;</samlp:Response>";
    BOOST_TEST(code_of(xxe) == "dtd_forbidden");
    std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"lol\">";
    for (int i = 1; i < 10; ++i)
        laughs += "<!ENTITY " + std::string(1, static_cast<char>('a' + i)) + " \"&" +
                  std::string(1, static_cast<char>('a' + i - 1)) + ";&" + std::string(1, static_cast<char>('a' + i - 1)) + ";\">";
    laughs += "]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&j;</samlp:Response>";
    BOOST_TEST(code_of(laughs) == "dtd_forbidden");
    BOOST_TEST(code_of("<samlp:Response") == "malformed_xml");
    BOOST_TEST(code_of("<html/>") == "not_a_response");
    expected.max_bytes = 1024;
    BOOST_TEST(code_of(signed_assertion()) == "too_large");
    expected.max_bytes = 256 * 1024;
    BOOST_TEST(code_of(replace(fx::response_xml({}), "<saml:Assertion ID=\"_a1\"", "<saml:EncryptedAssertion/><saml:Assertion ID=\"_a1\"")) ==
               "multiple_assertions");
}

BOOST_AUTO_TEST_CASE(the_post_binding_is_base64_of_the_response) {
    const auto xml = signed_assertion();
    const std::string b64 = core::base64_encode(xml);
    BOOST_TEST(saml::decode_post_binding(b64) == xml);
    BOOST_TEST(saml::validate_response(saml::decode_post_binding(b64), trust, expected).name_id == "ada@example.com");
    // Every length (1, 2 or 3 trailing bytes, padded or not), with line breaks every 76 characters as some
    // IdPs send it (MIME style) and stray spaces.
    for (std::size_t n = 1; n < 200; ++n) {
        std::string bytes;
        for (std::size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>((i * 37 + n) & 0xff));
        std::string wrapped = core::base64_encode(bytes);
        if (n % 2) wrapped.erase(wrapped.find_last_not_of('=') + 1);  // unpadded, as some IdPs send it
        for (std::size_t at = 76; at < wrapped.size(); at += 78) wrapped.insert(at, "\r\n");
        if (n % 5 == 0) wrapped.insert(wrapped.size() / 2, " ");
        BOOST_TEST(saml::decode_post_binding(wrapped) == bytes, "length " << n);
    }
    for (const char* malformed : {"%%%not base64%%%", "Q", "QQ=A", "QUJD=", "QQ===", "", "\r\n", "QUJD*UJD"}) {
        try {
            saml::decode_post_binding(malformed);
            BOOST_FAIL("accepted " << malformed);
        } catch (const saml::saml_error& e) {
            BOOST_TEST(e.code() == "malformed_response", malformed);
        }
    }
}

BOOST_AUTO_TEST_CASE(encrypted_assertions_are_decrypted_with_our_key_only) {
    const auto sp = fx::make_key("sp");
    // Signed by the IdP, then encrypted to our certificate: decrypted and read like any other.
    const auto encrypted = fx::encrypt_assertion(signed_assertion(), sp.cert_pem);
    BOOST_TEST(encrypted.find("EncryptedAssertion") != std::string::npos);
    BOOST_TEST(encrypted.find("ada@example.com") == std::string::npos);  // really encrypted
    BOOST_TEST(code_of(encrypted) == "no_decryption_key");                // a connection without our key
    trust.sp_private_key_pem = sp.key_pem;
    const auto a = saml::validate_response(encrypted, trust, expected);
    BOOST_TEST(a.name_id == "ada@example.com");
    BOOST_TEST(a.assertion_signed);
    // Encrypted to someone else's key: it does not decrypt.
    BOOST_TEST(code_of(fx::encrypt_assertion(signed_assertion(), attacker.cert_pem)) == "decryption_failed");
    // Anyone can encrypt to our public key: an encrypted but unsigned assertion proves nothing.
    BOOST_TEST(code_of(fx::encrypt_assertion(fx::response_xml({}), sp.cert_pem)) == "unsigned");
    // A response signed over the ciphertext (the assertion itself unsigned) is fine.
    const auto signed_over = fx::sign(fx::encrypt_assertion(fx::response_xml({}), sp.cert_pem), "_r1", idp);
    BOOST_TEST(code_of(signed_over) == "");
    // RSA v1.5 key transport (Bleichenbacher's padding oracle) is refused before any decryption.
    BOOST_TEST(code_of(fx::encrypt_assertion(signed_assertion(), sp.cert_pem, /*rsa_v15=*/true)) == "disallowed_algorithm");
}

BOOST_AUTO_TEST_CASE(idp_metadata_is_imported_and_ours_is_published) {
    std::string cert_b64;
    for (const auto& line : std::vector<std::string>{idp.cert_pem})
        for (std::size_t at = 0; at < line.size();) {
            const auto end = line.find('\n', at);
            const auto l = line.substr(at, end - at);
            if (l.find("-----") == std::string::npos) cert_b64 += l;
            at = end == std::string::npos ? line.size() : end + 1;
        }
    const std::string metadata =
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"http://www.okta.com/exk1\">"
        "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
        "<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
        "<ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
        "<ds:X509Certificate>\n" + cert_b64 + "\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://acme.okta.com/post\"/>"
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://acme.okta.com/sso\"/>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>";
    const auto md = saml::parse_idp_metadata(metadata);
    BOOST_TEST(md.entity_id == "http://www.okta.com/exk1");
    BOOST_TEST(md.sso_redirect_url == "https://acme.okta.com/sso");
    BOOST_TEST_REQUIRE(md.certificates_pem.size() == 1u);  // the encryption key is not a signing key
    // The imported certificate verifies what the IdP signs.
    trust.certificates_pem = md.certificates_pem;
    BOOST_TEST(code_of(signed_assertion()) == "");
    const auto invalid = [](const std::string& xml) {
        try {
            saml::parse_idp_metadata(xml);
        } catch (const saml::saml_error& e) {
            return e.code();
        }
        return std::string();
    };
    BOOST_TEST(invalid("<x/>") == "invalid_metadata");
    BOOST_TEST(invalid("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>") == "invalid_metadata");

    const auto ours = saml::sp_metadata("https://sp.example.com/metadata", "https://sp.example.com/acs",
                                        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");
    BOOST_TEST(ours.find("entityID=\"https://sp.example.com/metadata\"") != std::string::npos);
    BOOST_TEST(ours.find("WantAssertionsSigned=\"true\"") != std::string::npos);
    BOOST_TEST(ours.find("Location=\"https://sp.example.com/acs\"") != std::string::npos);

    // The AuthnRequest by the redirect binding, as the login handler sends it.
    const auto request = [&](const std::string& sso_url) {
        return saml::authn_request_xml(sso_url, "_req9", "https://sp.example.com/metadata", "https://sp.example.com/acs",
                                       "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", expected.now);
    };
    const auto url = saml::redirect_url("https://acme.okta.com/sso?x=1", "SAMLRequest",
                                        request("https://acme.okta.com/sso?x=1"), "state&1", "");
    BOOST_TEST(url.rfind("https://acme.okta.com/sso?x=1&SAMLRequest=", 0) == 0u, url);
    BOOST_TEST(url.find("&RelayState=state%261") != std::string::npos, url);
    BOOST_TEST(url.find("Signature=") == std::string::npos);  // no key, no signature

    // With the connection's own key: signed (bindings §3.4.4.1), and verifiable with its certificate only.
    const auto sp = fx::make_key("sp-signing");
    const auto signed_url = saml::redirect_url("https://idp.example.com/sso", "SAMLRequest",
                                               request("https://idp.example.com/sso"), "state", sp.key_pem);
    const auto query = signed_url.substr(signed_url.find('?') + 1);
    const auto read = saml::read_redirect(query, {sp.cert_pem}, true);
    BOOST_TEST(read.signature_verified);
    BOOST_TEST(read.is_request);
    BOOST_TEST(read.xml.find("ID=\"_req9\"") != std::string::npos);
    BOOST_TEST(read.relay_state == "state");
    try {
        saml::read_redirect(query, {attacker.cert_pem}, true);
        BOOST_FAIL("accepted a signature by another key");
    } catch (const saml::saml_error& e) {
        BOOST_TEST(e.code() == "bad_signature");
    }
    try {
        saml::read_redirect(query.substr(0, query.find("&SigAlg=")), {sp.cert_pem}, true);
        BOOST_FAIL("accepted an unsigned message");
    } catch (const saml::saml_error& e) {
        BOOST_TEST(e.code() == "unsigned");
    }
    // Tampering with the RelayState breaks the signature.
    auto tampered = query;
    tampered.replace(tampered.find("RelayState=state"), 16, "RelayState=other");
    try {
        saml::read_redirect(tampered, {sp.cert_pem}, true);
        BOOST_FAIL("accepted a tampered message");
    } catch (const saml::saml_error& e) {
        BOOST_TEST(e.code() == "bad_signature");
    }
    const auto published = saml::sp_metadata("https://sp.example.com/metadata", "https://sp.example.com/acs",
                                             "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", sp.cert_pem,
                                             "https://sp.example.com/slo");
    BOOST_TEST(published.find("AuthnRequestsSigned=\"true\"") != std::string::npos);
    BOOST_TEST(published.find("SingleLogoutService") != std::string::npos);
    BOOST_TEST(published.find("rsa-oaep-mgf1p") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
