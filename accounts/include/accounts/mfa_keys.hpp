// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// TOTP keys at rest. A TOTP key is a shared secret idgate must read back to check codes, so unlike
// passwords and tokens it cannot be stored as a digest: it is stored sealed (AES-256-GCM,
// core::secret_box), bound to its user, so a database dump or backup does not hand out every second
// factor (RFC 6238 §5.1: keys SHOULD be protected against unauthorized access).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto.hpp"
#include "store/accounts.hpp"

namespace idgate::accounts {

std::string seal_totp_key(const core::secret_box& box, std::string_view user_id, std::string_view raw_key);

// The raw key, or nullopt when this key ring cannot read it (a key missing from the ring, or a value
// that is not what was sealed for this user). A value stored before encryption (base64url) still reads,
// so a node that has not restarted yet during an upgrade does not lock anyone out.
std::optional<std::string> open_totp_key(const core::secret_box& box, std::string_view user_id,
                                         std::string_view stored);

// At start-up: seals TOTP keys stored before encryption and re-seals those sealed under an older key of
// the ring, so the older key can then be dropped. Keys the ring cannot read are left as they are.
struct reseal_report {
    std::int64_t sealed = 0;      // stored before encryption, now sealed
    std::int64_t resealed = 0;    // were under an older key, now under the current one
    std::int64_t unreadable = 0;  // under a key not in the ring (or damaged): left alone
};
reseal_report reseal_totp_keys(store::accounts& accounts, const core::secret_box& box);

}  // namespace idgate::accounts
