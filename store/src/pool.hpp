// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A fixed-size pool of SOCI sessions with the numbers /metrics reports (in use, waiting). A soci::session
// is not thread-safe, so every store call leases one for its duration.
#include <soci/soci.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/store.hpp"

namespace idgate::store::detail {

class session_pool {
public:
    using connect_fn = std::function<std::unique_ptr<soci::session>()>;
    // Runs before a session is closed (reconnect, shutdown): SQLite's cached statements must be
    // finalised before its connection can close.
    using retire_fn = void (*)(soci::session&);

    session_pool(std::size_t size, connect_fn connect, std::chrono::milliseconds acquire_timeout,
                 retire_fn retire = nullptr);
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

    // Waits up to the acquire timeout; throws unavailable when none frees up.
    lease acquire();
    pool_stats stats() const;

private:
    void release(std::size_t index, bool broken);

    connect_fn connect_;
    retire_fn retire_;
    std::chrono::milliseconds acquire_timeout_;
    std::vector<std::unique_ptr<soci::session>> sessions_;
    std::vector<bool> needs_reconnect_;
    std::vector<std::size_t> free_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::size_t waiting_ = 0;
};

}  // namespace idgate::store::detail
