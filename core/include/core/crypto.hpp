// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Random identifiers, secrets and digests. OpenSSL stays behind this header.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idgate::core {

// A time-ordered UUID (RFC 9562 version 7: milliseconds, then 74 random bits), lower-case: server-assigned
// resource ids (RFC 7643 §3.1 `id`), opaque to clients.
std::string new_uuid();

// base64url without padding (RFC 4648 §5), and back; decode returns false on a character outside the
// alphabet.
std::string base64url_encode(std::string_view bytes);
// Standard base64 with padding (RFC 4648 §4): SAML's bindings, CSP hashes, PEM bodies.
std::string base64_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

// A bearer secret: `prefix` + 43 characters of base64url over 32 random bytes (256 bits).
std::string new_secret(std::string_view prefix);

// Lower-case hex SHA-256. Secrets are stored only as this digest; the secret itself is shown once.
std::string sha256_hex(std::string_view data);
// The raw 32-byte digest (PKCE's S256 challenge is its base64url, RFC 7636 §4.2).
std::string sha256(std::string_view data);

// `n` bytes from the operating system's CSPRNG (salts, TOTP keys).
std::string random_bytes(std::size_t n);

// HMAC-SHA1 (RFC 2104), the MAC that TOTP (RFC 6238) is defined over; raw 20-byte digest.
std::string hmac_sha1(std::string_view key, std::string_view data);

// Compares without an early exit, so response time does not reveal how much of a secret matched.
bool constant_time_equal(std::string_view a, std::string_view b);

// Authenticated encryption for the few secrets idgate must read back (TOTP keys, RFC 6238 §5.1: "keys
// SHOULD be protected against unauthorized access"): AES-256-GCM (NIST SP 800-38D) with a random 96-bit
// nonce per value. `context` is authenticated but not stored (e.g. the owning user's id), so a sealed
// value copied onto another row does not open there.
//
// A key ring rotates keys: the first key seals, every key opens. A sealed value names its key by an id
// derived from the key (the first 4 bytes of its SHA-256), so values sealed before a rotation still
// open while the old key stays in the ring.
//
// Sealed text: "v1." + key id (8 hex) + "." + base64url(nonce || ciphertext || tag). It contains dots,
// which base64url never does, so it cannot be mistaken for a value stored before encryption.
class secret_box {
public:
    static constexpr std::size_t key_bytes = 32;

    // Each key: exactly 32 raw bytes. Throws std::invalid_argument for an empty ring, a key of another
    // size, or the same key twice.
    explicit secret_box(std::vector<std::string> keys);

    // A key as configured: base64 or base64url (with or without padding) of 32 bytes; nullopt otherwise.
    static std::optional<std::string> parse_key(std::string_view text);
    // A fresh key in that text form (standard base64), as `openssl rand -base64 32` prints one.
    static std::string new_key_text();

    std::string seal(std::string_view plaintext, std::string_view context) const;

    enum class open_error {
        not_sealed,   // not in the sealed format at all (e.g. stored before encryption)
        unknown_key,  // sealed with a key that is not in the ring
        invalid,      // tampered, truncated, or `context` differs
    };
    struct opened {
        std::optional<std::string> plaintext;
        open_error error = open_error::invalid;  // meaningful only without plaintext
        bool current_key = false;                // sealed with the ring's first key
    };
    opened open(std::string_view sealed, std::string_view context) const;

    static bool is_sealed(std::string_view text);
    const std::string& current_key_id() const { return ids_.front(); }

private:
    std::vector<std::string> keys_;
    std::vector<std::string> ids_;
};

}  // namespace idgate::core
