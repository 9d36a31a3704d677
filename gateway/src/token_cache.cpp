// SPDX-License-Identifier: AGPL-3.0-or-later
#include "token_cache.hpp"

#include <iterator>

namespace idgate::gateway {

std::optional<schema::api_token> token_cache::find(const std::string& secret_hash) {
    if (!enabled()) return std::nullopt;
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(secret_hash);
    if (it == entries_.end()) return std::nullopt;
    // A clock that went backwards counts as expired too.
    if (now < it->second.cached_at || now - it->second.cached_at >= ttl_) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.token;
}

std::uint64_t token_cache::revocations() const {
    std::lock_guard lock(mutex_);
    return revocations_;
}

void token_cache::remember(const std::string& secret_hash, const schema::api_token& token,
                           std::uint64_t revocations_seen) {
    if (!enabled()) return;
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    if (revocations_ != revocations_seen) return;  // the database's answer may predate a revocation
    if (entries_.size() >= capacity_) {
        // Full: drop what has expired; if everything is fresh, start over (a burst of that many distinct
        // live tokens within seconds is an anomaly; each is simply looked up again).
        for (auto it = entries_.begin(); it != entries_.end();)
            it = now - it->second.cached_at >= ttl_ ? entries_.erase(it) : std::next(it);
        if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(secret_hash, entry{token, now});
}

void token_cache::forget(const std::string& token_id) {
    std::lock_guard lock(mutex_);
    ++revocations_;
    for (auto it = entries_.begin(); it != entries_.end();)
        it = it->second.token.id == token_id ? entries_.erase(it) : std::next(it);
}

}  // namespace idgate::gateway
