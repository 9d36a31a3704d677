// SPDX-License-Identifier: AGPL-3.0-or-later
#include "blocking_pool.hpp"

#include <algorithm>
#include <system_error>

#include "core/log.hpp"

namespace idgate::gateway {

namespace {

blocking_pool::limits clamped(blocking_pool::limits l) {
    l.max_threads = std::max<std::size_t>(l.max_threads, 1);
    l.min_threads = std::clamp<std::size_t>(l.min_threads, 1, l.max_threads);
    return l;
}

}  // namespace

blocking_pool::blocking_pool(limits l, observer on_change)
    : limits_(clamped(l)), on_change_(std::move(on_change)) {
    std::exception_ptr failed;
    {
        std::lock_guard lock(mutex_);
        try {
            for (std::size_t i = 0; i < limits_.min_threads; ++i) start_thread();
        } catch (...) {
            failed = std::current_exception();
        }
    }
    if (failed) {
        join();  // the threads already started must not outlive a pool that never was
        std::rethrow_exception(failed);
    }
}

blocking_pool::~blocking_pool() { join(); }

void blocking_pool::start_thread() {
    const auto self = threads_.emplace(threads_.end());
    try {
        *self = std::thread([this, self] { run_thread(self); });
    } catch (...) {
        threads_.erase(self);
        throw;
    }
    ++starting_;
    if (on_change_) on_change_(threads_.size(), retired_);
}

void blocking_pool::submit(std::unique_ptr<erased_job> j) {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
        auto* taker = idle_.back();
        idle_.pop_back();
        taker->handed = std::move(j);
        taker->wake.notify_one();
        return;
    }
    queue_.push_back(std::move(j));
    // Threads already starting will take queued jobs; beyond them, one more thread per job.
    if (queue_.size() <= starting_ || threads_.size() >= limits_.max_threads) return;
    try {
        start_thread();
    } catch (const std::system_error& e) {
        // Out of threads (ulimit, memory): the job waits for one of the threads there are.
        core::log::warn("blocking pool: could not start a thread",
                        {{"error", e.what()}, {"threads", static_cast<std::int64_t>(threads_.size())}});
    }
}

void blocking_pool::run_job(erased_job& j) {
    try {
        j();
    } catch (const std::exception& e) {
        core::log::warn("blocking job failed", {{"error", e.what()}});
    } catch (...) {
        core::log::warn("blocking job failed", {{"error", "unknown exception"}});
    }
}

void blocking_pool::run_thread(std::list<std::thread>::iterator self) {
    std::unique_lock lock(mutex_);
    --starting_;
    for (;;) {
        if (!queue_.empty()) {
            auto next = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            run_job(*next);
            next.reset();  // the job's captures go on this thread, outside the lock
            lock.lock();
            continue;
        }
        if (stopping_) break;  // join(), and the queue is empty
        idle_thread me;
        idle_.push_back(&me);
        me.wake.wait_for(lock, limits_.idle_timeout, [&] { return me.handed || stopping_; });
        if (me.handed) {  // submit() took us off the idle stack
            lock.unlock();
            run_job(*me.handed);
            me.handed.reset();
            lock.lock();
            continue;
        }
        idle_.erase(std::find(idle_.begin(), idle_.end(), &me));
        if (stopping_) continue;
        // Idle for the whole timeout. Deciding and leaving under one lock: a job submitted after this
        // finds the thread gone and starts another if it needs one.
        if (threads_.size() > limits_.min_threads) {
            ++retired_;
            break;
        }
    }
    // Still under the lock. A thread cannot join itself: each one leaving joins the one that left before.
    if (left_.joinable()) left_.join();
    left_ = std::move(*self);
    threads_.erase(self);
    if (on_change_) on_change_(threads_.size(), retired_);
    if (threads_.empty()) all_left_.notify_all();
}

void blocking_pool::join() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    for (auto* waiting : idle_) waiting->wake.notify_one();
    all_left_.wait(lock, [this] { return threads_.empty(); });
    if (left_.joinable()) left_.join();
}

std::size_t blocking_pool::threads() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

std::size_t blocking_pool::threads_retired() const {
    std::lock_guard lock(mutex_);
    return retired_;
}

}  // namespace idgate::gateway
