// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Random identifiers, secrets and digests. OpenSSL stays behind this header.
#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace idgate::core
