// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/mfa_keys.hpp"

namespace idgate::accounts {
namespace {

// Authenticated with the value, not stored: a sealed key copied onto another user's row does not open.
std::string context_of(std::string_view user_id) { return "idgate totp key for user " + std::string(user_id); }

}  // namespace

std::string seal_totp_key(const core::secret_box& box, std::string_view user_id, std::string_view raw_key) {
    return box.seal(raw_key, context_of(user_id));
}

std::optional<std::string> open_totp_key(const core::secret_box& box, std::string_view user_id,
                                         std::string_view stored) {
    if (!core::secret_box::is_sealed(stored)) {
        std::string raw;
        if (stored.empty() || !core::base64url_decode(stored, raw)) return std::nullopt;
        return raw;
    }
    return box.open(stored, context_of(user_id)).plaintext;
}

reseal_report reseal_totp_keys(store::accounts& accounts, const core::secret_box& box) {
    reseal_report report;
    std::string after;
    for (;;) {
        const auto page = accounts.list_mfa_secrets(after, 500);
        for (const auto& row : page) {
            const bool legacy = !core::secret_box::is_sealed(row.secret);
            std::optional<std::string> raw;
            if (legacy) {
                raw = open_totp_key(box, row.user_id, row.secret);
            } else {
                auto opened = box.open(row.secret, context_of(row.user_id));
                if (opened.plaintext && opened.current_key) continue;  // nothing to do
                raw = std::move(opened.plaintext);
            }
            if (!raw) {
                ++report.unreadable;
                continue;
            }
            // Compare-and-set: a user who enrols again meanwhile keeps the new key.
            if (accounts.replace_mfa_secret(row.user_id, row.secret, seal_totp_key(box, row.user_id, *raw)))
                ++(legacy ? report.sealed : report.resealed);
        }
        if (page.size() < 500) return report;
        after = page.back().user_id;
    }
}

}  // namespace idgate::accounts
