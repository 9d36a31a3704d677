// SPDX-License-Identifier: AGPL-3.0-or-later
#include "write_batch.hpp"

#include <chrono>
#include <optional>
#include <thread>

#include "sql_runner.hpp"
#include "sqlite_prepared.hpp"

namespace idgate::store::detail {
namespace {

// Enough to share one log sync among every writer a busy gateway has waiting (its blocking pool is far
// smaller); a cap keeps one transaction from growing without bound if writers keep arriving.
constexpr std::size_t max_batch = 64;
constexpr int max_attempts = 6;  // of a write alone, on SQLITE_BUSY (another process holds the lock)

// A failure of BEGIN, SAVEPOINT, RELEASE or COMMIT: a failure of the transaction, not of one write.
batch_failure transaction_failure(const soci::soci_error& e) {
    const failure f = classify(e);
    batch_failure out;
    out.retryable = f == failure::retryable;
    out.connection_lost = f == failure::connection;
    try {
        throw_infrastructure(e, f == failure::other ? failure::connection : f);
    } catch (...) {
        out.error = std::current_exception();
    }
    return out;
}

// The batch's own statements, prepared once per connection like the writes' (sqlite_prepared.hpp).
void execute(soci::session& sql, const std::string& statement) {
    sqlite_statement st(sqlite_connection(sql));
    st.run(statement);
}

const std::string savepoint = "SAVEPOINT idgate_write", release = "RELEASE idgate_write",
                  rollback_to = "ROLLBACK TO idgate_write", commit = "COMMIT", rollback = "ROLLBACK";

}  // namespace

void write_batcher::run(job& j) {
    std::unique_lock lock(mutex_);
    queue_.push_back(&j);
    while (!j.done) {
        if (leading_) {
            finished_.wait(lock);
            continue;
        }
        // Lead: take everything waiting (a write whose batch failed goes alone, in order).
        leading_ = true;
        std::vector<job*> batch;
        if (queue_.front()->alone) {
            batch.push_back(queue_.front());
            queue_.pop_front();
        } else {
            for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_batch;) {
                if ((*it)->alone) {
                    ++it;
                } else {
                    batch.push_back(*it);
                    it = queue_.erase(it);
                }
            }
        }
        lock.unlock();
        std::size_t kept = 0;
        const batch_result outcome = run_batch(batch, kept);
        lock.lock();
        leading_ = false;
        if (outcome == batch_result::requeue) {
            for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
                (*it)->alone = true;
                queue_.push_front(*it);
            }
        } else {
            for (job* b : batch) b->done = true;
            if (kept > 0) {
                ++counts_.transactions;
                counts_.writes += kept;
            }
        }
        finished_.notify_all();
    }
    if (j.error) std::rethrow_exception(j.error);
}

write_batcher::counts write_batcher::committed() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

write_batcher::batch_result write_batcher::run_batch(const std::vector<job*>& batch, std::size_t& kept) {
    // A write alone needs no savepoint: its transaction is its own.
    const bool shared = batch.size() > 1;
    for (int attempt = 1;; ++attempt) {
        std::optional<session_pool::lease> lease;
        try {
            lease.emplace(pool_.acquire());
        } catch (...) {
            for (job* b : batch) b->error = std::current_exception();
            return batch_result::failed;
        }
        soci::session& sql = **lease;
        bool open = false;
        const auto abandon = [&] {
            if (!open) return;
            open = false;
            try {
                execute(sql, rollback);
            } catch (...) {
                lease->mark_broken();
            }
        };
        try {
            try {
                execute(sql, begin_);
                open = true;
                kept = 0;
                for (job* b : batch) {
                    b->error = nullptr;
                    if (shared) execute(sql, savepoint);
                    bool keep = false;
                    try {
                        keep = b->run(b->state, sql);
                    } catch (const batch_failure&) {
                        throw;
                    } catch (...) {
                        b->error = std::current_exception();
                    }
                    if (shared) {
                        if (!keep) execute(sql, rollback_to);
                        execute(sql, release);
                    }
                    if (keep) ++kept;
                }
                if (kept > 0) {
                    execute(sql, commit);
                    open = false;
                } else {
                    abandon();
                }
                return batch_result::committed;
            } catch (const soci::soci_error& e) {
                throw transaction_failure(e);
            }
        } catch (const batch_failure& f) {
            kept = 0;
            abandon();
            if (f.connection_lost) lease->mark_broken();
            // Nothing of the batch was committed: each write runs again, alone.
            if (shared) return batch_result::requeue;
            if (f.retryable && attempt < max_attempts) {
                lease.reset();
                std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
                continue;
            }
            batch.front()->error = f.error;
            return batch_result::failed;
        }
    }
}

}  // namespace idgate::store::detail
