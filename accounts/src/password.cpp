// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/password.hpp"

#include <argon2.h>

#include <algorithm>
#include <stdexcept>

#include "core/crypto.hpp"

namespace idgate::accounts {
namespace {

constexpr std::uint32_t time_cost = 2;
constexpr std::uint32_t memory_kib = 19 * 1024;
constexpr std::uint32_t lanes = 1;
constexpr std::size_t salt_length = 16;
constexpr std::size_t hash_length = 32;

// Length in characters, not bytes: a policy of "8 characters" must not be met by four 2-byte letters.
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace

std::vector<std::string> password_problems(const schema::password_policy& p, std::string_view password) {
    std::vector<std::string> problems;
    const auto length = utf8_length(password);
    if (length < static_cast<std::size_t>(p.min_length))
        problems.push_back("at least " + std::to_string(p.min_length) + " characters");
    if (length > static_cast<std::size_t>(p.max_length))
        problems.push_back("at most " + std::to_string(p.max_length) + " characters");
    bool upper = false, lower = false, digit = false, special = false;
    for (char c : password) {
        upper = upper || (c >= 'A' && c <= 'Z');
        lower = lower || (c >= 'a' && c <= 'z');
        digit = digit || (c >= '0' && c <= '9');
        special = special || p.special_characters.find(c) != std::string::npos;
    }
    if (p.require_upper && !upper) problems.push_back("at least one upper-case letter (A-Z)");
    if (p.require_lower && !lower) problems.push_back("at least one lower-case letter (a-z)");
    if (p.require_digit && !digit) problems.push_back("at least one digit (0-9)");
    if (p.require_special && !special)
        problems.push_back("at least one special character from " + p.special_characters);
    return problems;
}

std::string hash_password(std::string_view password) {
    const std::string salt = core::random_bytes(salt_length);
    const std::size_t encoded_length =
        argon2_encodedlen(time_cost, memory_kib, lanes, salt_length, hash_length, Argon2_id);
    std::string encoded(encoded_length, '\0');
    const int rc = argon2id_hash_encoded(time_cost, memory_kib, lanes, password.data(), password.size(), salt.data(),
                                         salt.size(), hash_length, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id failed: ") + argon2_error_message(rc));
    encoded.resize(encoded.find('\0'));
    return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
    if (encoded.rfind("$argon2id$", 0) != 0) return false;
    const std::string text{encoded};  // libargon2 wants a NUL-terminated string
    return argon2id_verify(text.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string generate_password(const schema::password_policy& policy) {
    static constexpr std::string_view upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", lower = "abcdefghijkmnopqrstuvwxyz",
                                      digits = "23456789";  // no 0/O, 1/l/I: it is read and typed by people
    const auto length = static_cast<std::size_t>(std::clamp(16, policy.min_length, policy.max_length));
    const auto pick = [](std::string_view alphabet, unsigned char r) { return alphabet[r % alphabet.size()]; };
    for (;;) {
        const std::string random = core::random_bytes(length * 2);
        std::string out;
        const std::string all = std::string(upper) + std::string(lower) + std::string(digits);
        for (std::size_t i = 0; i < length; ++i) out += pick(all, static_cast<unsigned char>(random[i]));
        // One of each required class at positions chosen by the remaining random bytes.
        std::size_t k = length;
        const auto place = [&](std::string_view alphabet) {
            if (alphabet.empty() || out.empty()) return;
            const auto at = static_cast<unsigned char>(random[k++]) % out.size();
            out[at] = pick(alphabet, static_cast<unsigned char>(random[k++]));
        };
        if (policy.require_upper) place(upper);
        if (policy.require_lower) place(lower);
        if (policy.require_digit) place(digits);
        if (policy.require_special) place(policy.special_characters);
        if (password_problems(policy, out).empty()) return out;  // a placement may overwrite another: retry
    }
}

const std::string& decoy_password_hash() {
    static const std::string hash = hash_password(core::new_secret("decoy_"));
    return hash;
}

}  // namespace idgate::accounts
