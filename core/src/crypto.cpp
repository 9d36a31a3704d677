// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace idgate::core {
namespace {

template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
    std::array<unsigned char, N> out{};
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
        throw std::runtime_error("the system random number generator failed");
    return out;
}

constexpr char hex_digits[] = "0123456789abcdef";

}  // namespace

std::string new_uuid() {
    auto b = random_bytes<16>();
    // RFC 9562 §5.7: the first 48 bits are the Unix time in milliseconds, so ids made one after another
    // sort near each other: a new row's key lands on the B-tree's last page instead of a random one
    // (fewer pages written per insert, on SQLite and PostgreSQL alike). 74 bits stay random.
    const auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);  // version 7
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10xx
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex_digits[b[i] >> 4]);
        out.push_back(hex_digits[b[i] & 0x0f]);
    }
    return out;
}

namespace {

std::string base64_with(std::string_view bytes, const char* alphabet) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    return base64_with(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

std::string base64_encode(std::string_view bytes) {
    std::string out = base64_with(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    while (out.size() % 4) out.push_back('=');
    return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
    out.clear();
    unsigned acc = 0;
    int bits = 0;
    for (char ch : text) {
        int v = -1;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '-') v = 62;
        else if (ch == '_') v = 63;
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return true;
}

std::string new_secret(std::string_view prefix) {
    const auto b = random_bytes<32>();
    return std::string(prefix) + base64url_encode({reinterpret_cast<const char*>(b.data()), b.size()});
}

std::string sha256(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(hex_digits[digest[i] >> 4]);
        out.push_back(hex_digits[digest[i] & 0x0f]);
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("the system random number generator failed");
    return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), digest, &length))
        throw std::runtime_error("HMAC-SHA1 failed");
    return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace idgate::core

// -- secret_box ------------------------------------------------------------------------------------

namespace idgate::core {
namespace {

constexpr std::size_t gcm_nonce_bytes = 12;  // SP 800-38D §8.2: 96-bit IVs, generated at random
constexpr std::size_t gcm_tag_bytes = 16;
constexpr std::string_view sealed_version = "v1.";

std::string key_id_of(std::string_view key) { return sha256_hex(key).substr(0, 8); }

struct cipher_context {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    cipher_context() {
        if (!ctx) throw std::bad_alloc();
    }
    ~cipher_context() { EVP_CIPHER_CTX_free(ctx); }
    cipher_context(const cipher_context&) = delete;
    cipher_context& operator=(const cipher_context&) = delete;
};

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

secret_box::secret_box(std::vector<std::string> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) throw std::invalid_argument("an encryption key ring needs at least one key");
    for (const auto& k : keys_) {
        if (k.size() != key_bytes) throw std::invalid_argument("an encryption key must be 32 bytes (AES-256)");
        auto id = key_id_of(k);
        for (const auto& seen : ids_)
            if (seen == id) throw std::invalid_argument("the same encryption key is listed twice");
        ids_.push_back(std::move(id));
    }
}

std::optional<std::string> secret_box::parse_key(std::string_view text) {
    std::string normalised;
    for (char ch : text) {
        if (ch == '+') normalised.push_back('-');
        else if (ch == '/') normalised.push_back('_');
        else if (ch == '=') continue;
        else normalised.push_back(ch);
    }
    std::string raw;
    if (!base64url_decode(normalised, raw) || raw.size() != key_bytes) return std::nullopt;
    return raw;
}

std::string secret_box::new_key_text() { return base64_encode(random_bytes(key_bytes)); }

bool secret_box::is_sealed(std::string_view text) {
    return text.substr(0, sealed_version.size()) == sealed_version && text.size() > sealed_version.size() + 9 &&
           text[sealed_version.size() + 8] == '.';
}

std::string secret_box::seal(std::string_view plaintext, std::string_view context) const {
    const std::string nonce = random_bytes(gcm_nonce_bytes);
    std::string body(nonce);
    body.resize(gcm_nonce_bytes + plaintext.size() + gcm_tag_bytes);
    auto* out = reinterpret_cast<unsigned char*>(body.data()) + gcm_nonce_bytes;
    cipher_context c;
    int n = 0, total = 0;
    bool ok = EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, bytes_of(keys_.front()), bytes_of(nonce)) == 1 &&
              EVP_EncryptUpdate(c.ctx, nullptr, &n, bytes_of(context), static_cast<int>(context.size())) == 1 &&
              EVP_EncryptUpdate(c.ctx, out, &n, bytes_of(plaintext), static_cast<int>(plaintext.size())) == 1;
    total = n;
    ok = ok && EVP_EncryptFinal_ex(c.ctx, out + total, &n) == 1;
    total += n;
    ok = ok && static_cast<std::size_t>(total) == plaintext.size() &&
         EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(gcm_tag_bytes), out + total) == 1;
    if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
    return std::string(sealed_version) + ids_.front() + "." + base64url_encode(body);
}

secret_box::opened secret_box::open(std::string_view sealed, std::string_view context) const {
    opened result;
    if (!is_sealed(sealed)) {
        result.error = open_error::not_sealed;
        return result;
    }
    const auto id = sealed.substr(sealed_version.size(), 8);
    std::size_t which = ids_.size();
    for (std::size_t i = 0; i < ids_.size(); ++i)
        if (ids_[i] == id) which = i;
    if (which == ids_.size()) {
        result.error = open_error::unknown_key;
        return result;
    }
    std::string body;
    if (!base64url_decode(sealed.substr(sealed_version.size() + 9), body) ||
        body.size() < gcm_nonce_bytes + gcm_tag_bytes) {
        result.error = open_error::invalid;
        return result;
    }
    const std::size_t length = body.size() - gcm_nonce_bytes - gcm_tag_bytes;
    const auto* nonce = bytes_of(body);
    const auto* ciphertext = nonce + gcm_nonce_bytes;
    std::string tag = body.substr(gcm_nonce_bytes + length);
    std::string plaintext(length, '\0');
    cipher_context c;
    int n = 0, total = 0;
    bool ok = EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, bytes_of(keys_[which]), nonce) == 1 &&
              EVP_DecryptUpdate(c.ctx, nullptr, &n, bytes_of(context), static_cast<int>(context.size())) == 1 &&
              EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plaintext.data()), &n, ciphertext,
                                static_cast<int>(length)) == 1;
    total = n;
    // The tag is checked by the final call: a mismatch means the value or its context is not what was sealed.
    ok = ok && EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(gcm_tag_bytes), tag.data()) == 1 &&
         EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plaintext.data()) + total, &n) == 1;
    if (!ok) {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        result.error = open_error::invalid;
        return result;
    }
    result.plaintext = std::move(plaintext);
    result.current_key = which == 0;
    return result;
}

}  // namespace idgate::core
