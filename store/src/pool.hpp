// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A pool of SOCI sessions with the numbers /metrics reports (open, in use, waiting). A soci::session is
// not thread-safe, so every store call leases one for its duration. The pool has a fixed number of slots;
// a slot's connection is closed after it sat unused for the idle timeout (down to a minimum kept open) and
// opened again when a lease needs it, as HikariCP's idleTimeout and minimumIdle do: between bursts, the
// database's backends and the client's buffers and statement caches are given back. Free slots are a
// stack, so the connections a light load keeps busy are always the same few.
#include <soci/soci.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/store.hpp"

namespace idgate::store::detail {

struct pool_idle_policy {
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(60);
    std::size_t keep_open = 2;  // at least 1; a pool of an in-memory SQLite database keeps its one
};

class session_pool {
public:
    using connect_fn = std::function<std::unique_ptr<soci::session>()>;
    // Runs before a session is closed (reconnect, shutdown): SQLite's cached statements must be
    // finalised before its connection can close.
    using retire_fn = void (*)(soci::session&);

    using idle_policy = pool_idle_policy;

    session_pool(std::size_t size, connect_fn connect, std::chrono::milliseconds acquire_timeout,
                 retire_fn retire = nullptr, idle_policy idle = {});
    ~session_pool();
    session_pool(const session_pool&) = delete;
    session_pool& operator=(const session_pool&) = delete;

    class lease {
    public:
        lease(session_pool& pool, std::size_t index) : pool_(&pool), index_(index) {}
        lease(lease&& other) noexcept : pool_(other.pool_), index_(other.index_) { other.pool_ = nullptr; }
        lease& operator=(lease&&) = delete;
        ~lease() {
            if (pool_) pool_->release(index_, broken_);
        }
        soci::session& operator*() const { return *pool_->sessions_[index_]; }
        soci::session* operator->() const { return pool_->sessions_[index_].get(); }
        // The connection failed mid-call: reconnect it before the next lease.
        void mark_broken() { broken_ = true; }

    private:
        session_pool* pool_;
        std::size_t index_;
        bool broken_ = false;
    };

    // Waits up to the acquire timeout; throws unavailable when none frees up, or when the connection the
    // slot needs cannot be opened.
    lease acquire();
    pool_stats stats() const;
    // Closes the connections unused since `now` minus the idle timeout, least recently used first, keeping
    // the minimum open. Returns how many it closed.
    std::size_t close_idle(std::chrono::steady_clock::time_point now);

private:
    void release(std::size_t index, bool broken);
    void close(std::size_t index);  // the slot is ours (not free, not leased)

    connect_fn connect_;
    retire_fn retire_;
    std::chrono::milliseconds acquire_timeout_;
    idle_policy idle_;
    // A slot's session and flags are touched outside the lock only by the one holding the slot.
    std::vector<std::unique_ptr<soci::session>> sessions_;
    std::vector<bool> needs_reconnect_;
    std::vector<bool> open_;
    std::vector<std::chrono::steady_clock::time_point> last_released_;
    std::vector<std::size_t> free_;  // a stack: the most recently released on top
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::size_t waiting_ = 0;
};

}  // namespace idgate::store::detail
