// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pool.hpp"

#include <algorithm>

namespace idgate::store::detail {

session_pool::session_pool(std::size_t size, connect_fn connect, std::chrono::milliseconds acquire_timeout,
                           retire_fn retire, idle_policy idle)
    : connect_(std::move(connect)), retire_(retire), acquire_timeout_(acquire_timeout), idle_(idle) {
    idle_.keep_open = std::clamp<std::size_t>(idle_.keep_open, 1, size);
    sessions_.reserve(size);
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < size; ++i) {
        sessions_.push_back(connect_());
        needs_reconnect_.push_back(false);
        open_.push_back(true);
        last_released_.push_back(now);
        free_.push_back(i);
    }
}

session_pool::~session_pool() {
    if (!retire_) return;
    for (auto& s : sessions_)
        if (s) retire_(*s);
}

void session_pool::close(std::size_t index) {
    if (retire_ && sessions_[index]) retire_(*sessions_[index]);
    sessions_[index].reset();
}

session_pool::lease session_pool::acquire() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    const bool got = available_.wait_for(lock, acquire_timeout_, [this] { return !free_.empty(); });
    --waiting_;
    if (!got) throw unavailable("no database connection became free within the pool's acquire timeout");
    const std::size_t index = free_.back();
    free_.pop_back();
    if (open_[index] && !needs_reconnect_[index]) return lease(*this, index);
    // Closed when idle, or broken: (re)connect outside the lock, so that other leases go on meanwhile.
    lock.unlock();
    try {
        close(index);
        sessions_[index] = connect_();
    } catch (...) {
        lock.lock();
        open_[index] = false;
        needs_reconnect_[index] = false;
        free_.insert(free_.begin(), index);  // under the open ones
        lock.unlock();
        available_.notify_one();
        throw;
    }
    lock.lock();
    open_[index] = true;
    needs_reconnect_[index] = false;
    return lease(*this, index);
}

void session_pool::release(std::size_t index, bool broken) {
    {
        std::lock_guard lock(mutex_);
        if (broken) needs_reconnect_[index] = true;
        last_released_[index] = std::chrono::steady_clock::now();
        free_.push_back(index);
    }
    available_.notify_one();
}

std::size_t session_pool::close_idle(std::chrono::steady_clock::time_point now) {
    std::vector<std::size_t> closing;
    {
        std::lock_guard lock(mutex_);
        auto open_count = static_cast<std::size_t>(std::count(open_.begin(), open_.end(), true));
        // From the bottom of the stack: the least recently used.
        for (auto it = free_.begin(); it != free_.end() && open_count > idle_.keep_open;) {
            if (open_[*it] && now - last_released_[*it] >= idle_.timeout) {
                closing.push_back(*it);
                --open_count;
                it = free_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (const auto index : closing) {
        try {
            close(index);
        } catch (...) {
            // Closing a connection that is already gone: it is closed all the same.
        }
    }
    {
        std::lock_guard lock(mutex_);
        for (const auto index : closing) {
            open_[index] = false;
            needs_reconnect_[index] = false;
            free_.insert(free_.begin(), index);
        }
    }
    if (!closing.empty()) available_.notify_all();
    return closing.size();
}

pool_stats session_pool::stats() const {
    std::lock_guard lock(mutex_);
    pool_stats p;
    p.size = sessions_.size();
    p.in_use = sessions_.size() - free_.size();
    p.waiting = waiting_;
    p.open = static_cast<std::size_t>(std::count(open_.begin(), open_.end(), true));
    return p;
}

}  // namespace idgate::store::detail
