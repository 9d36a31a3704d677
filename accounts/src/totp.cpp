// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/totp.hpp"

#include "core/crypto.hpp"

namespace idgate::accounts::totp {
namespace {

std::string uri_escape(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '@') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string new_key() { return core::random_bytes(20); }

std::string base32(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 5) {
            out += alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
    return out;
}

bool base32_decode(std::string_view text, std::string& out) {
    out.clear();
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char ch : text) {
        int v;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a';
        else if (ch >= '2' && ch <= '7') v = ch - '2' + 26;
        else if (ch == '=' || ch == ' ') continue;
        else return false;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return true;
}

std::string provisioning_uri(std::string_view issuer, std::string_view account, std::string_view key) {
    return "otpauth://totp/" + uri_escape(issuer) + ":" + uri_escape(account) + "?secret=" + base32(key) +
           "&issuer=" + uri_escape(issuer) + "&algorithm=SHA1&digits=" + std::to_string(digits) +
           "&period=" + std::to_string(step_seconds);
}

std::int64_t step_of(core::time_point t) {
    const auto ms = t.time_since_epoch().count();
    return ms / (1000 * step_seconds);
}

std::string code_at(std::string_view key, std::int64_t step) {
    std::string counter(8, '\0');
    for (int i = 7; i >= 0; --i) {
        counter[static_cast<std::size_t>(i)] = static_cast<char>(step & 0xff);
        step >>= 8;
    }
    const std::string mac = core::hmac_sha1(key, counter);
    const auto offset = static_cast<std::size_t>(mac[19] & 0x0f);
    const std::uint32_t binary = (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset]) & 0x7f) << 24) |
                                 (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                                 (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                                 static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
    std::string code = std::to_string(binary % 1000000);
    return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::optional<std::int64_t> match(std::string_view key, std::string_view code, core::time_point now) {
    if (code.size() != static_cast<std::size_t>(digits)) return std::nullopt;
    const auto current = step_of(now);
    std::optional<std::int64_t> found;
    // Check all three steps (no early exit), so timing does not tell which one matched.
    for (std::int64_t step = current - 1; step <= current + 1; ++step)
        if (core::constant_time_equal(code_at(key, step), code) && !found) found = step;
    return found;
}

}  // namespace idgate::accounts::totp
