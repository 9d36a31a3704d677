// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Bearer tokens found valid, kept for a few seconds so that an identity provider's burst of SCIM
// requests does not pay a database lookup per request (with PostgreSQL the lookup was a third of a
// `GET /Users/{id}`'s cost: docs/benchmarks.md).
//
// What it keeps is the token record, never a decision: expiry and the endpoint's policy are checked on
// every request against the clock. Only tokens the database knows are kept, so a wrong token always
// reaches the database (and cannot fill the cache). A token revoked through this server's admin API is
// forgotten at once; one revoked elsewhere (another node, `idgate token revoke`) stops working within
// `server.token_cache_seconds`. Zero turns the cache off.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "schema/model.hpp"

namespace idgate::gateway {

class token_cache {
public:
    token_cache(const core::clock& clock, std::chrono::seconds ttl, std::size_t capacity = 10'000)
        : clock_(clock), ttl_(ttl), capacity_(capacity) {}

    bool enabled() const { return ttl_.count() > 0; }
    // The token with this secret digest, if it was found within the time to live.
    std::optional<schema::api_token> find(const std::string& secret_hash);
    // Taken before asking the database and handed to remember(): a lookup that raced with a
    // revocation here (read the token, then the revocation forgot it) must not put it back.
    std::uint64_t revocations() const;
    void remember(const std::string& secret_hash, const schema::api_token& token, std::uint64_t revocations_seen);
    // Revoked here: gone before the revocation's response is sent.
    void forget(const std::string& token_id);

private:
    struct entry {
        schema::api_token token;
        core::time_point cached_at;
    };
    const core::clock& clock_;
    std::chrono::seconds ttl_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
    std::uint64_t revocations_ = 0;
};

}  // namespace idgate::gateway
