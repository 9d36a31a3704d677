// SPDX-License-Identifier: AGPL-3.0-or-later
// The redirect binding's query-string signatures (SAML bindings §3.4.4.1) with OpenSSL, and the Single
// Logout messages. The XML is read by response.cpp's hardened parser (parse_logout_*).
#include "saml/logout.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>

#include <memory>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "saml/response.hpp"
#include "message_fields.hpp"
#include "xml_escape.hpp"

namespace idgate::saml {
namespace {

[[noreturn]] void fail(const char* code, const std::string& detail) { throw saml_error(code, detail); }

std::string unbase64(const std::string& text) {
    std::string b;
    for (const char c : text)
        if (c != '=' && c != '\r' && c != '\n') b.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
    std::string out;
    if (!core::base64url_decode(b, out)) fail("malformed_request", "not base64");
    return out;
}

std::string deflate_raw(const std::string& in) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflate initialisation failed");
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(z.total_out);
    return out;
}

// Inflates at most 256 KB: a deflate bomb is refused, not expanded.
std::string inflate_raw(const std::string& in) {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) throw std::runtime_error("inflate initialisation failed");
    std::string out(256 * 1024, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    const auto produced = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) fail("malformed_request", "the message is not DEFLATE data (or is larger than allowed)");
    out.resize(produced);
    return out;
}

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

pkey_ptr public_key_of(const std::string& certificate_pem) {
    BIO* bio = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
    X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!cert) return nullptr;
    pkey_ptr key(X509_get_pubkey(cert));
    X509_free(cert);
    return key;
}

const EVP_MD* digest_for(const std::string& sig_alg, bool allow_sha1) {
    if (sig_alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256") return EVP_sha256();
    if (sig_alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384") return EVP_sha384();
    if (sig_alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512") return EVP_sha512();
    if (allow_sha1 && sig_alg == "http://www.w3.org/2000/09/xmldsig#rsa-sha1") return EVP_sha1();
    return nullptr;
}

// The raw value of a query parameter, as received (still URL-encoded).
std::optional<std::string> raw_param(const std::string& query, const std::string& name) {
    std::size_t at = 0;
    while (at <= query.size()) {
        const auto amp = query.find('&', at);
        const auto pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string::npos ? std::string() : pair.substr(eq + 1);
        if (amp == std::string::npos) break;
        at = amp + 1;
    }
    return std::nullopt;
}

}  // namespace

inbound_message read_redirect(const std::string& raw_query, const std::vector<std::string>& certificates_pem,
                               bool require_signature, bool allow_sha1) {
    const auto fields = read_message_fields(raw_query);
    inbound_message out;
    out.is_request = fields.is_request;
    out.relay_state = fields.relay_state;
    const std::string& message = fields.message;
    const std::string& sig_alg = fields.sig_alg;
    const std::string& signature = fields.signature;
    if (!signature.empty()) {
        // Bindings §3.4.4.1: the signature covers "SAMLRequest=...&RelayState=...&SigAlg=..." exactly as
        // received, in that order, RelayState only when present.
        const std::string kind = out.is_request ? "SAMLRequest" : "SAMLResponse";
        std::string signed_part = kind + "=" + raw_param(raw_query, kind).value_or("");
        if (const auto rs = raw_param(raw_query, "RelayState")) signed_part += "&RelayState=" + *rs;
        signed_part += "&SigAlg=" + raw_param(raw_query, "SigAlg").value_or("");
        const EVP_MD* md = digest_for(sig_alg, allow_sha1);
        if (!md) fail("disallowed_algorithm", "signature algorithm '" + sig_alg + "' is not allowed");
        const auto sig = unbase64(signature);
        for (const auto& pem : certificates_pem) {
            auto key = public_key_of(pem);
            if (!key) continue;
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            const bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.get()) == 1 &&
                            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                                             signed_part.size()) == 1;
            EVP_MD_CTX_free(ctx);
            if (ok) {
                out.signature_verified = true;
                break;
            }
        }
        if (!out.signature_verified) fail("bad_signature", "the message is not signed by the identity provider");
    } else if (require_signature) {
        fail("unsigned", "the message is not signed");
    }
    out.xml = inflate_raw(unbase64(message));
    return out;
}

std::string logout_request_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                               const std::string& name_id, const std::string& name_id_format,
                               const std::string& session_index, core::time_point now) {
    return "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
           "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + xml_escape(id) + "\" Version=\"2.0\" "
           "IssueInstant=\"" + core::format_timestamp(now) + "\" Destination=\"" + xml_escape(destination) + "\">"
           "<saml:Issuer>" + xml_escape(issuer) + "</saml:Issuer><saml:NameID" +
           (name_id_format.empty() ? std::string() : " Format=\"" + xml_escape(name_id_format) + "\"") + ">" +
           xml_escape(name_id) + "</saml:NameID>" +
           (session_index.empty() ? "" : "<samlp:SessionIndex>" + xml_escape(session_index) + "</samlp:SessionIndex>") +
           "</samlp:LogoutRequest>";
}

std::string logout_response_xml(const std::string& id, const std::string& destination, const std::string& issuer,
                                const std::string& in_response_to, core::time_point now) {
    return "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
           "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + xml_escape(id) + "\" Version=\"2.0\" "
           "IssueInstant=\"" + core::format_timestamp(now) + "\" Destination=\"" + xml_escape(destination) +
           "\" InResponseTo=\"" + xml_escape(in_response_to) + "\"><saml:Issuer>" + xml_escape(issuer) +
           "</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>"
           "</samlp:Status></samlp:LogoutResponse>";
}

std::string redirect_url(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                         const std::string& relay_state, const std::string& private_key_pem) {
    std::string query = parameter + "=" + core::percent_encode(core::base64_encode(deflate_raw(xml)));
    if (!relay_state.empty()) query += "&RelayState=" + core::percent_encode(relay_state);
    if (!private_key_pem.empty()) {
        query += "&SigAlg=" + core::percent_encode("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
        BIO* bio = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
        pkey_ptr key(bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr);
        BIO_free(bio);
        if (!key) throw std::runtime_error("the connection's service provider key cannot be read");
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        std::string sig;
        const bool ok =
            EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(query.data()), query.size()) == 1 &&
            (sig.resize(len), EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                             reinterpret_cast<const unsigned char*>(query.data()), query.size()) == 1);
        EVP_MD_CTX_free(ctx);
        if (!ok) throw std::runtime_error("could not sign the message");
        sig.resize(len);
        query += "&Signature=" + core::percent_encode(core::base64_encode(sig));
    }
    return endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace idgate::saml
