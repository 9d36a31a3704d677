// SPDX-License-Identifier: AGPL-3.0-or-later
// The only file that touches libxml2 and xmlsec1. Debian 12's xmlsec1 1.2.37 is unsafe with its defaults
// (issue 6): it takes keys from KeyInfo, follows RetrievalMethod and Reference URLs to the network, runs
// XSLT transforms, and xmlSecDSigCtxVerify() returns 0 for a signature that does not verify. So: the key is
// always one of the connection's certificates (dsigCtx->signKey, KeyInfo never read); same-document
// references only; a whitelist of transforms and algorithms; libxml2 and xmlsec I/O callbacks that refuse
// files and the network; and dsigCtx->status checked.
#include "saml/response.hpp"
#include "saml/logout.hpp"
#include "saml/service_provider.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlIO.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "message_fields.hpp"
#include "pem.hpp"

namespace idgate::saml {
namespace {

constexpr const char* protocol_ns = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr const char* assertion_ns = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr const char* dsig_ns = "http://www.w3.org/2000/09/xmldsig#";

[[noreturn]] void fail(const char* code, const std::string& detail) { throw saml_error(code, detail); }

// -- libxml2 plumbing ---------------------------------------------------------------------------------

struct doc_deleter {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_deleter>;

// The signing key is lent from the per-certificate cache: take it back, so that destroying the context
// does not free it.
struct dsig_deleter {
    void operator()(xmlSecDSigCtx* c) const {
        c->signKey = nullptr;
        xmlSecDSigCtxDestroy(c);
    }
};

std::string_view trimmed(std::string_view v) {
    // Values are written indented by some IdPs: XML whitespace around them is not part of them.
    const auto first = v.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return v.substr(first, v.find_last_not_of(" \t\r\n") - first + 1);
}

std::string text_of(const xmlNode* n) {
    // Nearly always one text node: read in place. Anything else (a comment, CDATA, entity text) takes the
    // whole text content, comments skipped: "a<!---->b" reads "ab", never "a".
    if (n && n->children && !n->children->next && n->children->type == XML_TEXT_NODE && n->children->content)
        return std::string(trimmed(reinterpret_cast<const char*>(n->children->content)));
    xmlChar* t = xmlNodeGetContent(n);
    std::string out(trimmed(t ? reinterpret_cast<const char*>(t) : ""));
    xmlFree(t);
    return out;
}

std::optional<std::string> attribute(const xmlNode* n, const char* name) {
    // An attribute without a namespace, as SAML's are. Its value is one text node unless it held entity
    // references, which libxml2 has substituted already (no DTD is ever loaded); read it in place then too.
    const xmlAttr* a = xmlHasNsProp(n, reinterpret_cast<const xmlChar*>(name), nullptr);
    if (!a) return std::nullopt;
    if (a->children && !a->children->next && a->children->type == XML_TEXT_NODE && a->children->content)
        return std::string(reinterpret_cast<const char*>(a->children->content));
    xmlChar* v = xmlNodeListGetString(n->doc, a->children, 1);
    std::string out = v ? reinterpret_cast<const char*>(v) : "";
    xmlFree(v);
    return out;
}

bool is(const xmlNode* n, const char* name, const char* ns) {
    return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->name, reinterpret_cast<const xmlChar*>(name)) &&
           xmlStrEqual(n->ns->href, reinterpret_cast<const xmlChar*>(ns));
}

std::vector<xmlNode*> children(xmlNode* parent, const char* name, const char* ns) {
    std::vector<xmlNode*> out;
    for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
        if (is(c, name, ns)) out.push_back(c);
    return out;
}

xmlNode* only_child(xmlNode* parent, const char* name, const char* ns) {
    const auto all = children(parent, name, ns);
    return all.size() == 1 ? all.front() : nullptr;
}

// Every element named `name` in `ns` anywhere below (and including) `n`.
void collect(xmlNode* n, const char* name, const char* ns, std::vector<xmlNode*>& out) {
    for (; n; n = n->next) {
        if (is(n, name, ns)) out.push_back(n);
        if (n->type == XML_ELEMENT_NODE) collect(n->children, name, ns, out);
    }
}

// Every ID attribute value in the document: a signature reference must name exactly one element.
void collect_ids(xmlNode* n, std::multiset<std::string>& out) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        for (xmlAttr* a = n->properties; a; a = a->next)
            if (xmlStrEqual(a->name, BAD_CAST "ID") || xmlStrEqual(a->name, BAD_CAST "Id") ||
                xmlStrEqual(a->name, BAD_CAST "id")) {
                xmlChar* v = xmlNodeListGetString(n->doc, a->children, 1);
                out.insert(v ? reinterpret_cast<const char*>(v) : "");
                xmlFree(v);
            }
        collect_ids(n->children, out);
    }
}

// xs:dateTime as SAML IdPs write it: "2026-01-31T12:00:00Z", with 0-7 fractional digits (ADFS writes 7).
std::optional<core::time_point> parse_instant(const std::string& s) {
    auto base = s;
    const auto dot = base.find('.');
    if (dot != std::string::npos) {
        const auto z = base.find('Z', dot);
        if (z == std::string::npos) return std::nullopt;
        const auto fraction = base.substr(dot + 1, z - dot - 1);
        if (fraction.empty() || fraction.size() > 9 ||
            !std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        base = base.substr(0, dot) + "." + (fraction + "000").substr(0, 3) + "Z";
    }
    return core::parse_timestamp(base);
}

core::time_point instant_or_fail(const xmlNode* n, const char* name, const char* what) {
    const auto text = attribute(n, name);
    if (!text) fail("malformed_response", std::string(what) + " lacks " + name);
    const auto t = parse_instant(*text);
    if (!t) fail("malformed_response", std::string(what) + "'s " + name + " is not a dateTime");
    return *t;
}

// -- I/O: refuse everything ---------------------------------------------------------------------------

// xmlsec and libxml2 write their errors to stderr by default; a refusal is reported as a reason code.
void quiet_xmlsec(const char*, int, const char*, const char*, const char*, int, const char*) {}
void quiet_libxml(void*, const char*, ...) {}

int refuse_match(const char*) { return 1; }  // claims every URI, so no other handler ever opens one
void* refuse_open(const char*) { return nullptr; }
xmlParserInputPtr refuse_entity(const char*, const char*, xmlParserCtxtPtr) { return nullptr; }

// -- signatures -----------------------------------------------------------------------------------------

const char* const sha1_uris[] = {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1"};

void check_algorithms(xmlNode* signature, const idp_trust& trust) {
    xmlNode* signed_info = only_child(signature, "SignedInfo", dsig_ns);
    if (!signed_info) fail("bad_signature", "the signature has no single SignedInfo");
    const auto uri_of = [](xmlNode* n) { return n ? attribute(n, "Algorithm").value_or("") : std::string(); };
    static const std::set<std::string> signatures{
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"};
    static const std::set<std::string> digests{"http://www.w3.org/2001/04/xmlenc#sha256",
                                               "http://www.w3.org/2001/04/xmldsig-more#sha384",
                                               "http://www.w3.org/2001/04/xmlenc#sha512"};
    static const std::set<std::string> transforms{"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                                                  "http://www.w3.org/2001/10/xml-exc-c14n#"};
    const auto sha1_ok = [&](const std::string& uri) {
        return trust.allow_sha1 && (uri == sha1_uris[0] || uri == sha1_uris[1]);
    };
    const auto method = uri_of(only_child(signed_info, "SignatureMethod", dsig_ns));
    if (!signatures.count(method) && !sha1_ok(method))
        fail("disallowed_algorithm", "signature algorithm '" + method + "' is not allowed");
    if (uri_of(only_child(signed_info, "CanonicalizationMethod", dsig_ns)) != "http://www.w3.org/2001/10/xml-exc-c14n#")
        fail("disallowed_transform", "the signature must use exclusive canonicalisation");
    const auto references = children(signed_info, "Reference", dsig_ns);
    if (references.size() != 1) fail("bad_signature", "the signature must have exactly one Reference");
    const auto digest = uri_of(only_child(references.front(), "DigestMethod", dsig_ns));
    if (!digests.count(digest) && !sha1_ok(digest))
        fail("disallowed_algorithm", "digest algorithm '" + digest + "' is not allowed");
    if (xmlNode* list = only_child(references.front(), "Transforms", dsig_ns))
        for (xmlNode* t : children(list, "Transform", dsig_ns))
            if (!transforms.count(uri_of(t)))
                fail("disallowed_transform", "transform '" + uri_of(t) + "' is not allowed");
}

// Keys are parsed once -- each connection's certificates and its own private key -- and kept for the life
// of the process (a handful).
xmlSecKeyPtr cached_key(const std::string& pem, xmlSecKeyDataFormat format = xmlSecKeyDataFormatCertPem) {
    static std::mutex mutex;
    // Never destroyed: verifications may still run while the process exits.
    static auto& keys = *new std::map<std::pair<std::string, int>, xmlSecKeyPtr>();
    std::lock_guard lock(mutex);
    const auto found = keys.find({pem, static_cast<int>(format)});
    if (found != keys.end()) return found->second;
    xmlSecKeyPtr key = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(pem.data()),
                                                    static_cast<xmlSecSize>(pem.size()), format, nullptr, nullptr,
                                                    nullptr);
    if (key) keys.emplace(std::make_pair(pem, static_cast<int>(format)), key);
    return key;
}

// Verifies `signature`, a direct child of `signed_element`, with one of the trusted certificates. The
// single reference must be "#<ID of signed_element>", so what the signature covers is what is read.
void verify(xmlNode* signed_element, xmlNode* signature, const idp_trust& trust) {
    check_algorithms(signature, trust);
    const auto id = attribute(signed_element, "ID").value_or("");
    if (id.empty()) fail("bad_signature", "the signed element has no ID");
    std::string last_error = "no trusted certificate";
    for (const auto& pem : trust.certificates_pem) {
        std::unique_ptr<xmlSecDSigCtx, dsig_deleter> ctx(xmlSecDSigCtxCreate(nullptr));
        if (!ctx) throw std::runtime_error("xmlsec: cannot create a signature context");
        // The connection's key, never one from the message: with signKey set, KeyInfo is not read. The key
        // is parsed once per certificate and lent to the context (read only; taken back before the context
        // is destroyed, by dsig_deleter).
        xmlSecKeyPtr trusted = cached_key(pem);
        if (!trusted) {
            last_error = "a configured certificate cannot be loaded";
            continue;
        }
        ctx->signKey = trusted;
        ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
        ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
        for (auto t : {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId, xmlSecTransformSha256Id,
                       xmlSecTransformSha384Id, xmlSecTransformSha512Id})
            xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t);
        for (auto t : {xmlSecTransformExclC14NId, xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id,
                       xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id,
                       xmlSecTransformEcdsaSha512Id})
            xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t);
        if (trust.allow_sha1) {
            xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecTransformSha1Id);
            xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformRsaSha1Id);
        }
        // A processing success (0) is not a valid signature: only status Succeeded is (issue 6).
        if (xmlSecDSigCtxVerify(ctx.get(), signature) != 0 || ctx->status != xmlSecDSigStatusSucceeded) {
            last_error = "the signature does not verify with the connection's certificate";
            continue;
        }
        if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) fail("bad_signature", "more than one reference");
        const auto* reference =
            static_cast<xmlSecDSigReferenceCtx*>(xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0));
        const std::string uri = reference && reference->uri ? reinterpret_cast<const char*>(reference->uri) : "";
        if (uri != "#" + id)
            fail("wrong_reference", "the signature covers '" + uri + "', not the element it sits in ('#" + id + "')");
        return;
    }
    fail("bad_signature", last_error);
}

struct keys_manager_deleter {
    void operator()(xmlSecKeysMngr* m) const { xmlSecKeysMngrDestroy(m); }
};
struct enc_deleter {
    void operator()(xmlSecEncCtx* c) const { xmlSecEncCtxDestroy(c); }
};

// Decrypts an EncryptedAssertion (SAML core §2.3.4) with the connection's own private key, the only key
// the decryption may use. Allowed: AES-CBC/GCM content, RSA-OAEP key transport (never RSA v1.5:
// Bleichenbacher); no CipherReference, no RetrievalMethod. Returns the Assertion, now in its place.
xmlNode* decrypt(xmlDoc* doc, xmlNode* encrypted_assertion, const idp_trust& trust) {
    constexpr const char* xmlenc = "http://www.w3.org/2001/04/xmlenc#";
    if (trust.sp_private_key_pem.empty())
        fail("no_decryption_key", "the assertion is encrypted but the connection has no service provider key");
    xmlNode* data = only_child(encrypted_assertion, "EncryptedData", xmlenc);
    if (!data) fail("malformed_response", "an EncryptedAssertion holds one EncryptedData");
    static const std::set<std::string> contents{
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm"};
    static const std::set<std::string> transports{"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
                                                  "http://www.w3.org/2009/xmlenc11#rsa-oaep"};
    xmlNode* method = only_child(data, "EncryptionMethod", xmlenc);
    const auto content_alg = method ? attribute(method, "Algorithm").value_or("") : std::string();
    if (!contents.count(content_alg)) fail("disallowed_algorithm", "content encryption '" + content_alg + "' is not allowed");
    std::vector<xmlNode*> keys;
    collect(encrypted_assertion->children, "EncryptedKey", xmlenc, keys);
    if (keys.size() != 1) fail("malformed_response", "the encrypted assertion must carry exactly one EncryptedKey");
    xmlNode* key_method = only_child(keys.front(), "EncryptionMethod", xmlenc);
    const auto key_alg = key_method ? attribute(key_method, "Algorithm").value_or("") : std::string();
    if (!transports.count(key_alg)) fail("disallowed_algorithm", "key transport '" + key_alg + "' is not allowed");

    xmlSecKeyPtr key = cached_key(trust.sp_private_key_pem, xmlSecKeyDataFormatPem);
    if (!key) fail("no_decryption_key", "the connection's service provider key cannot be read");
    std::unique_ptr<xmlSecKeysMngr, keys_manager_deleter> manager(xmlSecKeysMngrCreate());
    if (!manager || xmlSecCryptoAppDefaultKeysMngrInit(manager.get()) < 0)
        throw std::runtime_error("xmlsec: cannot create a keys manager");
    xmlSecKeyPtr copy = xmlSecKeyDuplicate(key);  // the manager owns (and frees) what it holds
    if (!copy || xmlSecCryptoAppDefaultKeysMngrAdoptKey(manager.get(), copy) < 0)
        throw std::runtime_error("xmlsec: cannot hold the key");
    std::unique_ptr<xmlSecEncCtx, enc_deleter> ctx(xmlSecEncCtxCreate(manager.get()));
    if (!ctx) throw std::runtime_error("xmlsec: cannot create a decryption context");
    ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
    ctx->transformCtx.enabledUris = xmlSecTransformUriTypeNone;
    if (xmlSecEncCtxDecrypt(ctx.get(), data) != 0 || !ctx->resultReplaced)
        fail("decryption_failed", "the assertion cannot be decrypted with the connection's key");
    // What came out must be exactly one Assertion element.
    xmlNode* plain = nullptr;
    int elements = 0;
    for (xmlNode* c = encrypted_assertion->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) {
            ++elements;
            plain = c;
        }
    if (elements != 1 || !is(plain, "Assertion", assertion_ns))
        fail("malformed_response", "the encrypted content is not one Assertion");
    xmlUnlinkNode(plain);
    xmlReplaceNode(encrypted_assertion, plain);
    xmlFreeNode(encrypted_assertion);
    std::vector<xmlNode*> all;
    collect(xmlDocGetRootElement(doc), "Assertion", assertion_ns, all);
    if (all.size() != 1) fail("multiple_assertions", "the decrypted content carries more than one assertion");
    return plain;
}

}  // namespace

void initialise() {
    static std::once_flag once;
    std::call_once(once, [] {
        xmlInitParser();
        xmlSetGenericErrorFunc(nullptr, quiet_libxml);
        // No external entity, DTD or XInclude is ever fetched, by libxml2 or by xmlsec on its behalf.
        xmlSetExternalEntityLoader(refuse_entity);
        xmlCleanupInputCallbacks();
        xmlRegisterInputCallbacks(refuse_match, refuse_open, nullptr, nullptr);
        if (xmlSecInit() < 0) throw std::runtime_error("xmlsec initialisation failed");
        xmlSecErrorsSetCallback(quiet_xmlsec);
        if (xmlSecCheckVersion() != 1) throw std::runtime_error("xmlsec library version mismatch");
        if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0)
            throw std::runtime_error("xmlsec crypto initialisation failed");
        // xmlsec's own URI handlers (file, http, ftp): gone; nothing is loaded from a reference.
        xmlSecIOCleanupCallbacks();
        xmlSecIORegisterCallbacks(refuse_match, refuse_open, nullptr, nullptr);
    });
}

bool certificate_usable(const std::string& pem) {
    initialise();
    return cached_key(pem) != nullptr;
}

std::string decode_post_binding(const std::string& field, std::size_t max_bytes) {
    if (field.size() > max_bytes * 4 / 3 + 8) fail("too_large", "the SAMLResponse is larger than allowed");
    // Base64 (RFC 4648 §4), line breaks tolerated. One table lookup classifies each character (value,
    // whitespace or padding); whole quads of plain characters -- nearly all of them -- take the fast path.
    static constexpr signed char skip = -2, pad = -3, bad = -1;
    static const auto table = [] {
        std::array<signed char, 256> t{};
        t.fill(bad);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
        for (const char c : {'\r', '\n', ' ', '\t'}) t[static_cast<unsigned char>(c)] = skip;
        t[static_cast<unsigned char>('=')] = pad;
        return t;
    }();
    std::string xml(field.size() / 4 * 3 + 3, '\0');
    auto* out = reinterpret_cast<unsigned char*>(xml.data());
    const auto* in = reinterpret_cast<const unsigned char*>(field.data());
    const auto* const end = in + field.size();
    std::uint32_t bits = 0;
    int count = 0, padding = 0;
    while (in < end) {
        if (count == 0 && end - in >= 4) {
            const int a = table[in[0]], b = table[in[1]], c = table[in[2]], d = table[in[3]];
            if ((a | b | c | d) >= 0) {
                const std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                                        (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
                out[0] = static_cast<unsigned char>(v >> 16);
                out[1] = static_cast<unsigned char>(v >> 8);
                out[2] = static_cast<unsigned char>(v);
                out += 3;
                in += 4;
                continue;
            }
        }
        const signed char v = table[*in++];
        if (v == skip) continue;
        if (v == pad) {
            ++padding;
            continue;
        }
        if (v < 0 || padding) fail("malformed_response", "the SAMLResponse is not base64");
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        if (++count == 4) {
            out[0] = static_cast<unsigned char>(bits >> 16);
            out[1] = static_cast<unsigned char>(bits >> 8);
            out[2] = static_cast<unsigned char>(bits);
            out += 3;
            bits = 0;
            count = 0;
        }
    }
    if (count == 1 || padding > 2 || (padding && count == 0)) fail("malformed_response", "the SAMLResponse is not base64");
    if (count == 2) *out++ = static_cast<unsigned char>(bits >> 4);
    if (count == 3) {
        *out++ = static_cast<unsigned char>(bits >> 10);
        *out++ = static_cast<unsigned char>(bits >> 2);
    }
    xml.resize(static_cast<std::size_t>(out - reinterpret_cast<unsigned char*>(xml.data())));
    if (xml.empty()) fail("malformed_response", "the SAMLResponse is empty");
    return xml;
}

assertion validate_response(const std::string& xml, const idp_trust& trust, const expectations& e) {
    initialise();
    if (xml.size() > e.max_bytes) fail("too_large", "the response is larger than " + std::to_string(e.max_bytes) + " bytes");
    // No DTD at all: XXE and billion-laughs payloads live there, and SAML never needs one.
    if (xml.find("<!DOCTYPE") != std::string::npos || xml.find("<!ENTITY") != std::string::npos)
        fail("dtd_forbidden", "the response carries a DTD");
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "response.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) fail("malformed_xml", "the response is not well-formed XML");
    if (doc->intSubset || doc->extSubset) fail("dtd_forbidden", "the response carries a DTD");
    xmlNode* response = xmlDocGetRootElement(doc.get());
    if (!is(response, "Response", protocol_ns)) fail("not_a_response", "the document is not a SAML 2.0 Response");

    // Exactly one assertion -- plain or encrypted -- in the whole document, directly in the Response:
    // signature wrapping needs a second one somewhere.
    std::vector<xmlNode*> all_assertions, encrypted;
    collect(response, "Assertion", assertion_ns, all_assertions);
    collect(response, "EncryptedAssertion", assertion_ns, encrypted);
    if (all_assertions.size() + encrypted.size() == 0) fail("no_assertion", "the response carries no assertion");
    if (all_assertions.size() + encrypted.size() > 1)
        fail("multiple_assertions", "the response carries more than one assertion");
    xmlNode* a = all_assertions.empty() ? encrypted.front() : all_assertions.front();
    if (a->parent != response) fail("multiple_assertions", "the assertion is not where a Response keeps it");
    const auto unique_ids = [&] {
        std::multiset<std::string> ids;
        collect_ids(response, ids);
        for (const auto& id : ids)
            if (ids.count(id) > 1) fail("duplicate_id", "the ID '" + id + "' appears more than once");
    };
    unique_ids();
    if (const auto id = attribute(response, "ID"))
        xmlAddID(nullptr, doc.get(), BAD_CAST id->c_str(), xmlHasProp(response, BAD_CAST "ID"));

    // The Response's signature covers what was sent (the ciphertext, if encrypted): checked first.
    assertion out;
    const auto response_signatures = children(response, "Signature", dsig_ns);
    if (response_signatures.size() > 1) fail("bad_signature", "more than one signature on the response");
    if (!response_signatures.empty()) {
        verify(response, response_signatures.front(), trust);
        out.response_signed = true;
    }
    if (!encrypted.empty()) {
        a = decrypt(doc.get(), a, trust);
        unique_ids();  // the plaintext must not smuggle in a second element with a known ID
    }
    if (const auto id = attribute(a, "ID")) xmlAddID(nullptr, doc.get(), BAD_CAST id->c_str(), xmlHasProp(a, BAD_CAST "ID"));
    const auto assertion_signatures = children(a, "Signature", dsig_ns);
    if (assertion_signatures.size() > 1) fail("bad_signature", "more than one signature on the assertion");
    // An encrypted assertion proves nothing by itself: anyone can encrypt to our public key.
    if (response_signatures.empty() && assertion_signatures.empty())
        fail("unsigned", "neither the response nor the assertion is signed");
    if (!assertion_signatures.empty()) {
        verify(a, assertion_signatures.front(), trust);
        out.assertion_signed = true;
    }

    // The response around it.
    const auto issuer_of = [&](xmlNode* n) {
        xmlNode* i = only_child(n, "Issuer", assertion_ns);
        return i ? text_of(i) : std::string();
    };
    if (const auto ri = only_child(response, "Issuer", assertion_ns); ri && text_of(ri) != trust.entity_id)
        fail("wrong_issuer", "the response was issued by '" + text_of(ri) + "'");
    xmlNode* status = only_child(response, "Status", protocol_ns);
    xmlNode* code = status ? only_child(status, "StatusCode", protocol_ns) : nullptr;
    const auto status_value = code ? attribute(code, "Value").value_or("") : std::string();
    if (status_value != "urn:oasis:names:tc:SAML:2.0:status:Success")
        fail("status_not_success", "the IdP answered with status '" + status_value + "'");
    if (const auto destination = attribute(response, "Destination"); destination && *destination != e.acs_url)
        fail("wrong_destination", "the response is addressed to '" + *destination + "'");
    if (out.response_signed && !attribute(response, "Destination"))
        fail("wrong_destination", "a signed response must name its Destination (SAML profiles §4.1.4.5)");
    // An empty InResponseTo (some IdPs write one on unsolicited responses) is no InResponseTo.
    const auto present = [](std::optional<std::string> v) { return v && !v->empty() ? v : std::nullopt; };
    const auto response_in_response_to = present(attribute(response, "InResponseTo"));

    // The assertion: everything below is read from the verified element only.
    out.id = attribute(a, "ID").value_or("");
    out.issuer = issuer_of(a);
    if (out.issuer != trust.entity_id) fail("wrong_issuer", "the assertion was issued by '" + out.issuer + "'");
    xmlNode* subject = only_child(a, "Subject", assertion_ns);
    xmlNode* name_id = subject ? only_child(subject, "NameID", assertion_ns) : nullptr;
    if (!name_id || text_of(name_id).empty()) fail("missing_name_id", "the assertion names no subject");
    out.name_id = text_of(name_id);
    out.name_id_format = attribute(name_id, "Format").value_or("");

    // A bearer confirmation for us: Recipient, NotOnOrAfter, InResponseTo (SAML profiles §4.1.4.2).
    bool confirmed = false;
    std::string refusal = "no bearer SubjectConfirmation";
    const char* refusal_code = "no_bearer_confirmation";
    std::optional<core::time_point> valid_until;
    for (xmlNode* sc : children(subject, "SubjectConfirmation", assertion_ns)) {
        if (attribute(sc, "Method").value_or("") != "urn:oasis:names:tc:SAML:2.0:cm:bearer") continue;
        xmlNode* data = only_child(sc, "SubjectConfirmationData", assertion_ns);
        if (!data) continue;
        const auto recipient = attribute(data, "Recipient").value_or("");
        if (recipient != e.acs_url) {
            refusal_code = "wrong_recipient";
            refusal = "the assertion is for recipient '" + recipient + "'";
            continue;
        }
        const auto until = instant_or_fail(data, "NotOnOrAfter", "SubjectConfirmationData");
        if (until <= e.now - e.skew) {
            refusal_code = "expired";
            refusal = "the subject confirmation has expired";
            continue;
        }
        if (const auto not_before = attribute(data, "NotBefore"))
            fail("malformed_response", "a bearer SubjectConfirmationData must not carry NotBefore");
        const auto irt = present(attribute(data, "InResponseTo"));
        if (e.in_response_to) {
            if (irt != e.in_response_to || (response_in_response_to && response_in_response_to != e.in_response_to)) {
                refusal_code = "wrong_in_response_to";
                refusal = "the assertion answers another request";
                continue;
            }
        } else if (irt || response_in_response_to) {
            refusal_code = "wrong_in_response_to";
            refusal = "the assertion answers a request this sign-in did not make";
            continue;
        }
        confirmed = true;
        valid_until = until;
        break;
    }
    if (!confirmed) fail(refusal_code, refusal);
    if (!e.in_response_to && !e.allow_unsolicited)
        fail("unsolicited_response", "IdP-initiated sign-in is not enabled for this connection");

    xmlNode* conditions = only_child(a, "Conditions", assertion_ns);
    if (!conditions) fail("malformed_response", "the assertion has no Conditions");
    if (attribute(conditions, "NotBefore") &&
        instant_or_fail(conditions, "NotBefore", "Conditions") > e.now + e.skew)
        fail("not_yet_valid", "the assertion is not valid yet (clock skew?)");
    if (attribute(conditions, "NotOnOrAfter")) {
        const auto until = instant_or_fail(conditions, "NotOnOrAfter", "Conditions");
        if (until <= e.now - e.skew) fail("expired", "the assertion has expired");
        valid_until = std::min(*valid_until, until);
    }
    const auto restrictions = children(conditions, "AudienceRestriction", assertion_ns);
    if (restrictions.empty()) fail("wrong_audience", "the assertion names no audience");
    for (xmlNode* r : restrictions) {
        // Every restriction must include us (core §2.5.1.4: each is a separate condition).
        bool ours = false;
        for (xmlNode* audience : children(r, "Audience", assertion_ns)) ours = ours || text_of(audience) == e.sp_entity_id;
        if (!ours) fail("wrong_audience", "the assertion is not meant for '" + e.sp_entity_id + "'");
    }
    out.valid_until = *valid_until;

    if (xmlNode* authn = only_child(a, "AuthnStatement", assertion_ns))
        out.session_index = attribute(authn, "SessionIndex").value_or("");
    for (xmlNode* statement : children(a, "AttributeStatement", assertion_ns))
        for (xmlNode* attr : children(statement, "Attribute", assertion_ns)) {
            const auto name = attribute(attr, "Name").value_or("");
            if (name.empty()) continue;
            auto& values = out.attributes[name];
            for (xmlNode* v : children(attr, "AttributeValue", assertion_ns)) values.push_back(text_of(v));
        }
    return out;
}

idp_metadata parse_idp_metadata(const std::string& xml, const std::vector<std::string>& trusted_pem) {
    initialise();
    constexpr const char* md = "urn:oasis:names:tc:SAML:2.0:metadata";
    if (xml.size() > 1024 * 1024 || xml.find("<!DOCTYPE") != std::string::npos)
        fail("invalid_metadata", "the metadata is too large or carries a DTD");
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "metadata.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc || doc->intSubset) fail("invalid_metadata", "the metadata is not well-formed XML");
    xmlNode* root = xmlDocGetRootElement(doc.get());
    idp_metadata out;
    if (!trusted_pem.empty()) {
        // SAML metadata §3: an enveloped signature over the root element. What is read below is inside it.
        const auto signatures = children(root, "Signature", dsig_ns);
        if (signatures.empty()) fail("unsigned_metadata", "the metadata is not signed");
        if (signatures.size() > 1) fail("bad_signature", "more than one signature on the metadata");
        std::multiset<std::string> ids;
        collect_ids(root, ids);
        for (const auto& id : ids)
            if (ids.count(id) > 1) fail("duplicate_id", "the ID '" + id + "' appears more than once");
        if (const auto id = attribute(root, "ID"))
            xmlAddID(nullptr, doc.get(), BAD_CAST id->c_str(), xmlHasProp(root, BAD_CAST "ID"));
        verify(root, signatures.front(), idp_trust{"", trusted_pem, false});
        out.signed_by_trusted = true;
    }
    xmlNode* entity = root;
    if (is(entity, "EntitiesDescriptor", md)) entity = only_child(entity, "EntityDescriptor", md);
    if (!is(entity, "EntityDescriptor", md)) fail("invalid_metadata", "expected one EntityDescriptor");
    out.entity_id = attribute(entity, "entityID").value_or("");
    xmlNode* idp = only_child(entity, "IDPSSODescriptor", md);
    if (out.entity_id.empty() || !idp) fail("invalid_metadata", "the metadata describes no identity provider");
    for (xmlNode* kd : children(idp, "KeyDescriptor", md)) {
        const auto use = attribute(kd, "use").value_or("signing");
        if (use != "signing") continue;
        std::vector<xmlNode*> certificates;
        collect(kd->children, "X509Certificate", dsig_ns, certificates);
        for (xmlNode* c : certificates) {
            std::string b64;
            for (const char ch : text_of(c))
                if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') b64 += ch;
            std::string pem = "-----BEGIN CERTIFICATE-----\n";
            for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
            out.certificates_pem.push_back(pem + "-----END CERTIFICATE-----\n");
        }
    }
    constexpr std::string_view redirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    constexpr std::string_view post = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    const auto endpoints = [&](const char* element, std::string& redirect_url, std::string& post_url) {
        for (xmlNode* e : children(idp, element, md)) {
            const auto binding = attribute(e, "Binding").value_or("");
            auto& target = binding == redirect ? redirect_url : binding == post ? post_url : redirect_url;
            if ((binding == redirect || binding == post) && target.empty()) target = attribute(e, "Location").value_or("");
        }
    };
    endpoints("SingleSignOnService", out.sso_redirect_url, out.sso_post_url);
    endpoints("SingleLogoutService", out.slo_redirect_url, out.slo_post_url);
    if (out.certificates_pem.empty()) fail("invalid_metadata", "the metadata has no signing certificate");
    if (out.sso_redirect_url.empty() && out.sso_post_url.empty())
        fail("invalid_metadata", "the metadata has no HTTP-Redirect or HTTP-POST SingleSignOnService");
    return out;
}

bool metadata_is_signed(const std::string& xml) {
    initialise();
    if (xml.size() > 1024 * 1024 || xml.find("<!DOCTYPE") != std::string::npos) return false;
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "metadata.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    return doc && !children(xmlDocGetRootElement(doc.get()), "Signature", dsig_ns).empty();
}

namespace {

doc_ptr parse_message(const std::string& xml) {
    initialise();
    if (xml.size() > 256 * 1024 || xml.find("<!DOCTYPE") != std::string::npos || xml.find("<!ENTITY") != std::string::npos)
        fail("malformed_request", "the message is too large or carries a DTD");
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "message.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc || doc->intSubset) fail("malformed_request", "the message is not well-formed XML");
    return doc;
}

}  // namespace

logout_request parse_logout_request(const std::string& xml) {
    const auto doc = parse_message(xml);
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!is(root, "LogoutRequest", protocol_ns)) fail("malformed_request", "not a LogoutRequest");
    logout_request out;
    out.id = attribute(root, "ID").value_or("");
    if (xmlNode* issuer = only_child(root, "Issuer", assertion_ns)) out.issuer = text_of(issuer);
    xmlNode* name_id = only_child(root, "NameID", assertion_ns);
    if (!name_id || out.id.empty()) fail("malformed_request", "a LogoutRequest names its ID and the NameID");
    out.name_id = text_of(name_id);
    for (xmlNode* s : children(root, "SessionIndex", protocol_ns)) out.session_indexes.push_back(text_of(s));
    return out;
}

logout_response parse_logout_response(const std::string& xml) {
    const auto doc = parse_message(xml);
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!is(root, "LogoutResponse", protocol_ns)) fail("malformed_request", "not a LogoutResponse");
    logout_response out;
    out.in_response_to = attribute(root, "InResponseTo").value_or("");
    if (xmlNode* issuer = only_child(root, "Issuer", assertion_ns)) out.issuer = text_of(issuer);
    xmlNode* status = only_child(root, "Status", protocol_ns);
    xmlNode* code = status ? only_child(status, "StatusCode", protocol_ns) : nullptr;
    out.status = code ? attribute(code, "Value").value_or("") : std::string();
    return out;
}

std::string sign_xml(const std::string& xml, const std::string& private_key_pem, const std::string& certificate_pem) {
    initialise();
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "message.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) throw std::runtime_error("sign_xml: the message is not well-formed XML");
    xmlNode* root = xmlDocGetRootElement(doc.get());
    const auto id = attribute(root, "ID");
    if (!id) throw std::runtime_error("sign_xml: the message has no ID");
    xmlAddID(nullptr, doc.get(), BAD_CAST id->c_str(), xmlHasProp(root, BAD_CAST "ID"));
    xmlNode* signature = xmlSecTmplSignatureCreateNsPref(doc.get(), xmlSecTransformExclC14NId,
                                                         xmlSecTransformRsaSha256Id, nullptr, BAD_CAST "ds");
    if (!signature) throw std::runtime_error("xmlsec: cannot create a signature template");
    // SAML core §5.4.1 and the protocol schema: the Signature directly follows the Issuer.
    xmlNode* issuer = only_child(root, "Issuer", assertion_ns);
    if (issuer) xmlAddNextSibling(issuer, signature);
    else if (root->children) xmlAddPrevSibling(root->children, signature);
    else xmlAddChild(root, signature);
    const std::string uri = "#" + *id;
    xmlNode* reference =
        xmlSecTmplSignatureAddReference(signature, xmlSecTransformSha256Id, nullptr, BAD_CAST uri.c_str(), nullptr);
    if (!reference || !xmlSecTmplReferenceAddTransform(reference, xmlSecTransformEnvelopedId) ||
        !xmlSecTmplReferenceAddTransform(reference, xmlSecTransformExclC14NId))
        throw std::runtime_error("xmlsec: cannot create the signature reference");
    if (!certificate_pem.empty()) {
        xmlNode* key_info = xmlSecTmplSignatureEnsureKeyInfo(signature, nullptr);
        xmlNode* data = key_info ? xmlSecTmplKeyInfoAddX509Data(key_info) : nullptr;
        if (!data) throw std::runtime_error("xmlsec: cannot create KeyInfo");
        xmlNewTextChild(data, data->ns, BAD_CAST "X509Certificate", BAD_CAST pem_body(certificate_pem).c_str());
    }
    std::unique_ptr<xmlSecDSigCtx, dsig_deleter> ctx(xmlSecDSigCtxCreate(nullptr));
    xmlSecKeyPtr key = cached_key(private_key_pem, xmlSecKeyDataFormatPem);
    if (!ctx || !key) throw std::runtime_error("the connection's service provider key cannot be read");
    ctx->signKey = key;  // lent, taken back by dsig_deleter
    if (xmlSecDSigCtxSign(ctx.get(), signature) < 0) throw std::runtime_error("xmlsec: could not sign the message");
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc.get(), &out, &size, "UTF-8");
    std::string signed_xml(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
    xmlFree(out);
    return signed_xml;
}

inbound_message read_post(const std::string& form_body, const std::vector<std::string>& certificates_pem,
                          bool allow_sha1) {
    const auto fields = read_message_fields(form_body);
    inbound_message out;
    out.is_request = fields.is_request;
    out.relay_state = fields.relay_state;
    out.xml = decode_post_binding(fields.message);
    const auto doc = parse_message(out.xml);
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!is(root, out.is_request ? "LogoutRequest" : "LogoutResponse", protocol_ns))
        fail("malformed_request", "not a LogoutRequest or LogoutResponse");
    std::multiset<std::string> ids;
    collect_ids(root, ids);
    for (const auto& id : ids)
        if (ids.count(id) > 1) fail("duplicate_id", "the ID '" + id + "' appears more than once");
    // Bindings §3.5.4: the POST binding's signature is an enveloped XML signature over the message itself,
    // checked with the same rules as a Response's (trusted certificates only, one reference to the root).
    const auto signatures = children(root, "Signature", dsig_ns);
    if (signatures.size() > 1) fail("bad_signature", "more than one signature on the message");
    if (!signatures.empty()) {
        if (const auto id = attribute(root, "ID"))
            xmlAddID(nullptr, doc.get(), BAD_CAST id->c_str(), xmlHasProp(root, BAD_CAST "ID"));
        verify(root, signatures.front(), idp_trust{"", certificates_pem, allow_sha1});
        out.signature_verified = true;
    }
    return out;
}

post_form post_message(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                       const std::string& relay_state, const std::string& private_key_pem,
                       const std::string& certificate_pem) {
    post_form form;
    form.action = endpoint;
    form.fields.emplace_back(parameter,
                             core::base64_encode(private_key_pem.empty() ? xml : sign_xml(xml, private_key_pem, certificate_pem)));
    if (!relay_state.empty()) form.fields.emplace_back("RelayState", relay_state);
    return form;
}

}  // namespace idgate::saml
