// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Time-based one-time passwords (RFC 6238) over HMAC-SHA1, 6 digits, 30-second steps: what Google
// Authenticator, 1Password, Authy and every other authenticator app implement.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace idgate::accounts::totp {

inline constexpr std::int64_t step_seconds = 30;
inline constexpr int digits = 6;

// A new 160-bit key (RFC 4226 §4 recommends 160 bits).
std::string new_key();

// RFC 4648 §6 base32 without padding: how authenticator apps take the key.
std::string base32(std::string_view bytes);

// Decodes base32 (case-insensitive, padding and spaces ignored); false on another character.
bool base32_decode(std::string_view text, std::string& out);

// The otpauth:// URI that authenticator apps scan (Google Authenticator's Key Uri Format).
std::string provisioning_uri(std::string_view issuer, std::string_view account, std::string_view key);

// The time step of `t` (RFC 6238 §4.2: T = floor((t - T0) / X), T0 = 0).
std::int64_t step_of(core::time_point t);

// The code for step `step` (RFC 4226 §5.3 dynamic truncation).
std::string code_at(std::string_view key, std::int64_t step);

// The step whose code `code` is, accepting one step of clock drift either way (RFC 6238 §5.2);
// nullopt when none matches. Comparisons are constant-time.
std::optional<std::int64_t> match(std::string_view key, std::string_view code, core::time_point now);

}  // namespace idgate::accounts::totp
