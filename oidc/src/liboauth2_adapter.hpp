// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The one file that talks to liboauth2 (HTTP to the provider: discovery, JWKS, token and userinfo
// endpoints, over libcurl) and to cjose, the JOSE library liboauth2 verifies signatures with. No
// liboauth2, cjose or jansson type leaves it: it is the loadable adapter idgate_oidc_adapter.so
// (core/adapter.hpp), and only the table below crosses. Every call blocks: the gateway runs these handlers on its
// blocking pool, never on an I/O thread.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace idgate::oidc::detail {

struct http_reply {
    bool sent = false;  // false: no HTTP answer at all (connection refused, timeout, TLS failure)
    int status = 0;
    std::string body;
    std::string error;  // why it was not sent
};

http_reply http_get(const std::string& url, int timeout_seconds, const std::string& bearer_token = {});
// A form POST; with `basic_user`, HTTP Basic authentication (client_secret_basic, RFC 6749 §2.3.1).
http_reply http_post_form(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form,
                          int timeout_seconds, const std::string& basic_user = {},
                          const std::string& basic_password = {});

// An RS256 JWS over `header_json`.`payload_json` with a PEM private key (private_key_jwt client
// assertions). Throws std::runtime_error when the key cannot be used.
std::string sign_rs256(const std::string& header_json, const std::string& payload_json, const std::string& private_key_pem);

// A JSON Web Key Set with its keys imported once, for verifying many signatures. An interface: the keys
// are cjose's, inside the adapter.
class key_set {
public:
    // Imports every signing key it can use (RSA, EC); throws std::runtime_error when the document is
    // not a JWKS or holds no usable key.
    static std::shared_ptr<const key_set> parse(const std::string& jwks_json);
    virtual ~key_set() = default;

    // Whether a key of type `kty` with this kid is in the set (an empty kid: any key of that type).
    virtual bool has(const std::string& kid, const std::string& kty) const = 0;
    // Whether the JWS `token` is signed by the key `kid` (an empty kid: by one of the keys of type `kty`).
    virtual bool verify(const std::string& token, const std::string& kid, const std::string& kty) const = 0;
    virtual std::size_t size() const = 0;
};

// The adapter's table (core/adapter.hpp). The adapter, idgate_oidc_adapter.so, is src/liboauth2_adapter.cpp;
// src/adapter_calls.cpp defines the functions above by opening it at the first call.
struct oauth2_adapter {
    decltype(&detail::http_get) http_get;
    decltype(&detail::http_post_form) http_post_form;
    decltype(&detail::sign_rs256) sign_rs256;
    decltype(&detail::key_set::parse) parse_key_set;
};

}  // namespace idgate::oidc::detail
