// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pool.hpp"

namespace idgate::store::detail {

session_pool::session_pool(std::size_t size, connect_fn connect, std::chrono::milliseconds acquire_timeout,
                           retire_fn retire)
    : connect_(std::move(connect)), retire_(retire), acquire_timeout_(acquire_timeout) {
    sessions_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        sessions_.push_back(connect_());
        needs_reconnect_.push_back(false);
        free_.push_back(i);
    }
}

session_pool::~session_pool() {
    if (!retire_) return;
    for (auto& s : sessions_)
        if (s) retire_(*s);
}

session_pool::lease session_pool::acquire() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    const bool got = available_.wait_for(lock, acquire_timeout_, [this] { return !free_.empty(); });
    --waiting_;
    if (!got) throw unavailable("no database connection became free within the pool's acquire timeout");
    const std::size_t index = free_.back();
    free_.pop_back();
    if (needs_reconnect_[index]) {
        // Reconnect outside the lock would be nicer, but a broken connection is rare and the lease must
        // not be handed out half-open.
        try {
            if (retire_ && sessions_[index]) retire_(*sessions_[index]);
            sessions_[index].reset();
            sessions_[index] = connect_();
            needs_reconnect_[index] = false;
        } catch (...) {
            free_.push_back(index);
            available_.notify_one();
            throw;
        }
    }
    return lease(*this, index);
}

void session_pool::release(std::size_t index, bool broken) {
    {
        std::lock_guard lock(mutex_);
        if (broken) needs_reconnect_[index] = true;
        free_.push_back(index);
    }
    available_.notify_one();
}

pool_stats session_pool::stats() const {
    std::lock_guard lock(mutex_);
    return {sessions_.size(), sessions_.size() - free_.size(), waiting_};
}

}  // namespace idgate::store::detail
