// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What an identity provider (or an attacker) does to a SAML Response, for tests: keys and certificates made
// in the test setup (openssl), responses built from parts, and XML signatures made with xmlsec1 over the
// Response or the Assertion -- with the signer's certificate (or raw key) in KeyInfo, as IdPs send it.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "saml/response.hpp"

namespace idgate::test::saml {

struct key_pair {
    std::string key_pem, cert_pem;
};

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A fresh RSA-2048 key and self-signed certificate.
inline key_pair make_key(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("idgate-saml-keys-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto key = dir / (name + ".key"), cert = dir / (name + ".crt");
    const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " +
                                cert.string() + " -days 2 -subj /CN=" + name + " > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a key");
    return {read_file(key), read_file(cert)};
}

// The document as text, and freed.
inline std::string dump_and_free(xmlDocPtr doc) {
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemory(doc, &out, &size);
    std::string result(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
    xmlFree(out);
    xmlFreeDoc(doc);
    return result;
}

struct response_parts {
    std::string response_id = "_r1", assertion_id = "_a1";
    std::string issuer = "https://idp.example.com/metadata";
    std::string destination = "https://sp.example.com/acs";
    std::string recipient = "https://sp.example.com/acs";
    std::string audience = "https://sp.example.com/metadata";
    std::string in_response_to = "_req1";  // empty: none (IdP-initiated)
    std::string name_id = "ada@example.com";
    std::string not_before = "2026-11-22T11:59:00Z";
    std::string not_on_or_after = "2026-11-22T12:05:00Z";
    std::string status = "urn:oasis:names:tc:SAML:2.0:status:Success";
    std::string extra_in_response;  // raw XML placed after the Status (a second assertion, for instance)
};

inline std::string response_xml(const response_parts& p) {
    const std::string irt = p.in_response_to.empty() ? "" : " InResponseTo=\"" + p.in_response_to + "\"";
    return "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
           "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + p.response_id +
           "\" Version=\"2.0\" IssueInstant=\"2026-11-22T12:00:00Z\" Destination=\"" + p.destination + "\"" + irt +
           "><saml:Issuer>" + p.issuer + "</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"" + p.status +
           "\"/></samlp:Status>" + p.extra_in_response + "<saml:Assertion ID=\"" + p.assertion_id +
           "\" Version=\"2.0\" IssueInstant=\"2026-11-22T12:00:00Z\"><saml:Issuer>" + p.issuer +
           "</saml:Issuer><saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">" +
           p.name_id + "</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
           "<saml:SubjectConfirmationData NotOnOrAfter=\"" + p.not_on_or_after + "\" Recipient=\"" + p.recipient + "\"" +
           irt + "/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore=\"" + p.not_before +
           "\" NotOnOrAfter=\"" + p.not_on_or_after + "\"><saml:AudienceRestriction><saml:Audience>" + p.audience +
           "</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement "
           "AuthnInstant=\"2026-11-22T12:00:00Z\" SessionIndex=\"_s1\"><saml:AuthnContext><saml:AuthnContextClassRef>"
           "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"
           "</saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name=\"email\">"
           "<saml:AttributeValue>" + p.name_id + "</saml:AttributeValue></saml:Attribute><saml:Attribute "
           "Name=\"groups\"><saml:AttributeValue>idgate-admins</saml:AttributeValue><saml:AttributeValue>sec-ir"
           "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>";
}

struct signing {
    bool sha1 = false;              // RSA-SHA1 and SHA-1 digests
    bool key_value = false;         // KeyInfo carries the raw key (RSAKeyValue) instead of the certificate
    std::string extra_transform;    // an extra Reference transform URI (e.g. XSLT)
    std::string reference_uri;      // override "#<ID>"
};

// Signs the element with ID `id` (the Response or the Assertion) of `xml`; returns the signed XML.
inline std::string sign(const std::string& xml, const std::string& id, const key_pair& key, const signing& how = {}) {
    idgate::saml::initialise();
    xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "r.xml", nullptr, XML_PARSE_NONET);
    if (!doc) throw std::runtime_error("fixture is not XML");
    xmlNodePtr target = nullptr;
    for (xmlNodePtr n = xmlDocGetRootElement(doc); n;) {
        xmlChar* v = xmlGetProp(n, BAD_CAST "ID");
        const bool match = v && id == reinterpret_cast<const char*>(v);
        xmlFree(v);
        if (match) {
            target = n;
            break;
        }
        // depth-first over elements
        if (n->children && n->children->type == XML_ELEMENT_NODE) n = n->children;
        else {
            while (n && !n->next) n = n->parent;
            if (n) n = n->next;
            while (n && n->type != XML_ELEMENT_NODE) n = n->next;
        }
    }
    if (!target) throw std::runtime_error("no element with ID " + id);
    // Every ID attribute is an ID (so a reference may also point elsewhere, as an attack fixture does).
    for (xmlNodePtr n : {xmlDocGetRootElement(doc), target})
        if (xmlChar* v = xmlGetProp(n, BAD_CAST "ID")) {
            if (!xmlGetID(doc, v)) xmlAddID(nullptr, doc, v, xmlHasProp(n, BAD_CAST "ID"));
            xmlFree(v);
        }
    xmlNodePtr sig = xmlSecTmplSignatureCreate(doc, xmlSecTransformExclC14NId,
                                               how.sha1 ? xmlSecTransformRsaSha1Id : xmlSecTransformRsaSha256Id, nullptr);
    // After the Issuer, where SAML puts it.
    xmlNodePtr issuer = target->children;
    xmlAddNextSibling(issuer, sig);
    const std::string uri = how.reference_uri.empty() ? "#" + id : how.reference_uri;
    xmlNodePtr ref = xmlSecTmplSignatureAddReference(sig, how.sha1 ? xmlSecTransformSha1Id : xmlSecTransformSha256Id,
                                                     nullptr, BAD_CAST uri.c_str(), nullptr);
    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId);
    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId);
    xmlNodePtr key_info = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
    if (how.key_value) xmlSecTmplKeyInfoAddKeyValue(key_info);
    else xmlSecTmplKeyInfoAddX509Data(key_info);
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(nullptr);
    ctx->signKey = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(key.key_pem.data()),
                                                static_cast<xmlSecSize>(key.key_pem.size()), xmlSecKeyDataFormatPem,
                                                nullptr, nullptr, nullptr);
    xmlSecCryptoAppKeyCertLoadMemory(ctx->signKey, reinterpret_cast<const xmlSecByte*>(key.cert_pem.data()),
                                     static_cast<xmlSecSize>(key.cert_pem.size()), xmlSecKeyDataFormatPem);
    const int rc = xmlSecDSigCtxSign(ctx, sig);
    xmlSecDSigCtxDestroy(ctx);
    if (rc != 0) throw std::runtime_error("xmlsec could not sign the fixture");
    if (!how.extra_transform.empty()) {
        // Added after signing: the digest no longer matters, the transform must be refused before it runs.
        xmlNodePtr transforms = xmlSecFindNode(sig, BAD_CAST "Transforms", BAD_CAST "http://www.w3.org/2000/09/xmldsig#");
        xmlNodePtr t = xmlNewChild(transforms, transforms->ns, BAD_CAST "Transform", nullptr);
        xmlNewProp(t, BAD_CAST "Algorithm", BAD_CAST how.extra_transform.c_str());
    }
    return dump_and_free(doc);
}

// Encrypts the Assertion of `xml` to `recipient_cert_pem` as an IdP does (AES-256-CBC content, the session
// key wrapped with RSA-OAEP, or RSA v1.5 when `rsa_v15`), in a saml:EncryptedAssertion.
inline std::string encrypt_assertion(const std::string& xml, const std::string& recipient_cert_pem, bool rsa_v15 = false) {
    idgate::saml::initialise();
    xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "r.xml", nullptr, XML_PARSE_NONET);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr assertion = xmlSecFindNode(root, BAD_CAST "Assertion", BAD_CAST "urn:oasis:names:tc:SAML:2.0:assertion");
    xmlNodePtr data = xmlSecTmplEncDataCreate(doc, xmlSecTransformAes256CbcId, nullptr, xmlSecTypeEncElement, nullptr, nullptr);
    xmlSecTmplEncDataEnsureCipherValue(data);
    xmlNodePtr key_info = xmlSecTmplEncDataEnsureKeyInfo(data, nullptr);
    xmlNodePtr encrypted_key = xmlSecTmplKeyInfoAddEncryptedKey(
        key_info, rsa_v15 ? xmlSecTransformRsaPkcs1Id : xmlSecTransformRsaOaepId, nullptr, nullptr, nullptr);
    xmlSecTmplEncDataEnsureCipherValue(encrypted_key);
    xmlSecKeysMngrPtr manager = xmlSecKeysMngrCreate();
    xmlSecCryptoAppDefaultKeysMngrInit(manager);
    xmlSecCryptoAppDefaultKeysMngrAdoptKey(
        manager, xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(recipient_cert_pem.data()),
                                              static_cast<xmlSecSize>(recipient_cert_pem.size()),
                                              xmlSecKeyDataFormatCertPem, nullptr, nullptr, nullptr));
    xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(manager);
    ctx->encKey = xmlSecKeyGenerate(xmlSecKeyDataAesId, 256, xmlSecKeyDataTypeSession);
    if (xmlSecEncCtxXmlEncrypt(ctx, data, assertion) != 0) throw std::runtime_error("xmlsec could not encrypt");
    xmlSecEncCtxDestroy(ctx);
    xmlSecKeysMngrDestroy(manager);
    xmlNodePtr encrypted = xmlSecFindNode(root, BAD_CAST "EncryptedData", BAD_CAST "http://www.w3.org/2001/04/xmlenc#");
    xmlNodePtr wrapper = xmlNewNode(nullptr, BAD_CAST "EncryptedAssertion");
    xmlSetNs(wrapper, xmlSearchNsByHref(doc, root, BAD_CAST "urn:oasis:names:tc:SAML:2.0:assertion"));
    xmlReplaceNode(encrypted, wrapper);
    xmlAddChild(wrapper, encrypted);
    return dump_and_free(doc);
}

}  // namespace idgate::test::saml
