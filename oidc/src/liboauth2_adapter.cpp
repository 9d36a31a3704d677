// SPDX-License-Identifier: AGPL-3.0-or-later
#include "liboauth2_adapter.hpp"

#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
// liboauth2's headers declare C functions without extern "C" guards.
extern "C" {
#include <oauth2/http.h>
#include <oauth2/log.h>
#include <oauth2/mem.h>
#include <oauth2/util.h>
}

#include <boost/json/parse.hpp>
#include <cstdint>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <stdexcept>

#include "core/adapter.hpp"
#include "core/log.hpp"

namespace idgate::oidc::detail {
namespace {

void forward_log(oauth2_log_sink_t*, const char*, unsigned long, const char* function, oauth2_log_level_t level,
                 const char* message) {
    const std::string_view text = message ? message : "";
    if (level == OAUTH2_LOG_ERROR) core::log::warn("liboauth2", {{"function", function ? function : ""}, {"message", text}});
}

// One liboauth2 context for the process: its log forwards warnings to idgate's log.
oauth2_log_t* library() {
    static oauth2_log_t* log = [] {
        oauth2_log_sink_t* sink = oauth2_log_sink_create(OAUTH2_LOG_ERROR, forward_log, nullptr);
        return oauth2_init(OAUTH2_LOG_ERROR, sink);
    }();
    return log;
}

struct call_context {
    explicit call_context(int timeout_seconds) : log(library()), ctx(oauth2_http_call_ctx_init(log)) {
        oauth2_http_call_ctx_timeout_set(log, ctx, timeout_seconds);
        oauth2_http_call_ctx_ssl_verify_set(log, ctx, true);
    }
    ~call_context() { oauth2_http_call_ctx_free(log, ctx); }
    oauth2_log_t* log;
    oauth2_http_call_ctx_t* ctx;
};

http_reply finish(bool ok, char* response, oauth2_http_status_code_t status) {
    http_reply r;
    r.sent = ok || status > 0;
    r.status = static_cast<int>(status);
    if (response) {
        r.body = response;
        oauth2_mem_free(response);
    }
    if (!r.sent) r.error = "no answer from the identity provider";
    return r;
}

}  // namespace

http_reply http_get(const std::string& url, int timeout_seconds, const std::string& bearer_token) {
    call_context c(timeout_seconds);
    if (!bearer_token.empty()) oauth2_http_call_ctx_bearer_token_set(c.log, c.ctx, bearer_token.c_str());
    char* response = nullptr;
    oauth2_http_status_code_t status = 0;
    const bool ok = oauth2_http_get(c.log, url.c_str(), nullptr, c.ctx, &response, &status);
    return finish(ok, response, status);
}

http_reply http_post_form(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form,
                          int timeout_seconds, const std::string& basic_user, const std::string& basic_password) {
    call_context c(timeout_seconds);
    if (!basic_user.empty())
        oauth2_http_call_ctx_basic_auth_set(c.log, c.ctx, basic_user.c_str(), basic_password.c_str(), true);
    oauth2_nv_list_t* params = oauth2_nv_list_init(c.log);
    for (const auto& [name, value] : form) oauth2_nv_list_add(c.log, params, name.c_str(), value.c_str());
    char* response = nullptr;
    oauth2_http_status_code_t status = 0;
    const bool ok = oauth2_http_post_form(c.log, url.c_str(), params, c.ctx, &response, &status);
    oauth2_nv_list_free(c.log, params);
    return finish(ok, response, status);
}

std::string sign_rs256(const std::string& header_json, const std::string& payload_json, const std::string& private_key_pem) {
    cjose_err err;
    cjose_jwk_t* jwk = nullptr;
    {
        // cjose imports JWKs, not PEM: read the PEM with OpenSSL, hand cjose the RSA key.
        BIO* bio = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
        EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
        BIO_free(bio);
        if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
            EVP_PKEY_free(pkey);
            throw std::runtime_error("the client's private key is not an RSA key in PEM");
        }
        const auto part = [&](const char* name) {
            BIGNUM* bn = nullptr;
            EVP_PKEY_get_bn_param(pkey, name, &bn);
            std::vector<std::uint8_t> bytes(bn ? static_cast<std::size_t>(BN_num_bytes(bn)) : 0);
            if (bn) BN_bn2bin(bn, bytes.data());
            BN_free(bn);
            return bytes;
        };
        auto n = part("n"), e = part("e"), d = part("d"), p = part("rsa-factor1"), q = part("rsa-factor2"),
             dp = part("rsa-exponent1"), dq = part("rsa-exponent2"), qi = part("rsa-coefficient1");
        EVP_PKEY_free(pkey);
        cjose_jwk_rsa_keyspec spec{e.data(), e.size(), n.data(), n.size(), d.data(), d.size(), p.data(), p.size(),
                                   q.data(), q.size(), dp.data(), dp.size(), dq.data(), dq.size(), qi.data(), qi.size()};
        jwk = cjose_jwk_create_RSA_spec(&spec, &err);
    }
    if (!jwk) throw std::runtime_error("cjose cannot use the client's private key");
    cjose_header_t* header = cjose_header_new(&err);
    cjose_jws_t* jws = nullptr;
    std::string out;
    {
        // The header's members: alg (RS256) and kid; typ JWT.
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(header_json, ec);
        if (!ec && parsed.is_object())
            for (const auto& [name, value] : parsed.as_object())
                if (value.is_string()) cjose_header_set(header, std::string(name).c_str(), value.as_string().c_str(), &err);
        jws = cjose_jws_sign(jwk, header, reinterpret_cast<const std::uint8_t*>(payload_json.data()), payload_json.size(), &err);
        const char* compact = nullptr;
        if (jws && cjose_jws_export(jws, &compact, &err) && compact) out = compact;
    }
    cjose_jws_release(jws);
    cjose_header_release(header);
    cjose_jwk_release(jwk);
    if (out.empty()) throw std::runtime_error("cjose could not sign the client assertion");
    return out;
}

namespace {

class cjose_key_set final : public key_set {
public:
    struct entry {
        std::string kid, kty;
        cjose_jwk_t* jwk = nullptr;
    };

    ~cjose_key_set() override {
        for (auto& k : keys_) cjose_jwk_release(k.jwk);
    }

    void add(entry e) { keys_.push_back(std::move(e)); }

    bool has(const std::string& kid, const std::string& kty) const override {
        for (const auto& k : keys_)
            if (k.kty == kty && (kid.empty() || k.kid == kid)) return true;
        return false;
    }

    bool verify(const std::string& token, const std::string& kid, const std::string& kty) const override {
        cjose_err err;
        cjose_jws_t* jws = cjose_jws_import(token.c_str(), token.size(), &err);
        if (!jws) return false;
        bool verified = false;
        for (const auto& k : keys_) {
            if (k.kty != kty || (!kid.empty() && k.kid != kid)) continue;
            if (cjose_jws_verify(jws, k.jwk, &err)) {
                verified = true;
                break;
            }
        }
        cjose_jws_release(jws);
        return verified;
    }

    std::size_t size() const override { return keys_.size(); }

private:
    std::vector<entry> keys_;
};

std::shared_ptr<const key_set> parse_key_set(const std::string& jwks_json) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(jwks_json, ec);
    const auto* keys = !ec && doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
    if (!keys || !keys->is_array()) throw std::runtime_error("the JWKS is not {\"keys\": [...]}");
    auto set = std::make_shared<cjose_key_set>();
    for (const auto& k : keys->as_array()) {
        if (!k.is_object()) continue;
        const auto& o = k.as_object();
        const auto text = [&o](const char* name) {
            const auto* v = o.if_contains(name);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        const auto kty = text("kty"), use = text("use");
        // Signing keys only: an encryption key ("use": "enc") never verifies a signature.
        if ((kty != "RSA" && kty != "EC") || (!use.empty() && use != "sig")) continue;
        const auto serialized = boost::json::serialize(o);
        cjose_err err;
        cjose_jwk_t* jwk = cjose_jwk_import(serialized.c_str(), serialized.size(), &err);
        if (!jwk) continue;  // a malformed key among good ones does not take the others down
        set->add({text("kid"), kty, jwk});
    }
    if (set->size() == 0) throw std::runtime_error("the JWKS holds no RSA or EC signing key");
    return set;
}

constexpr oauth2_adapter table{&http_get, &http_post_form, &sign_rs256, &parse_key_set};

}  // namespace

}  // namespace idgate::oidc::detail

IDGATE_ADAPTER_ENTRY(idgate::oidc::detail::table)
