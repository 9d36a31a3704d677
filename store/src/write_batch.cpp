// SPDX-License-Identifier: AGPL-3.0-or-later
#include "write_batch.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>

#include "pg_prepared.hpp"
#include "sql_runner.hpp"
#include "sqlite_prepared.hpp"

namespace idgate::store::detail {
namespace {

// Enough to share one log sync among every writer a busy gateway has waiting (its blocking pool is far
// smaller); a cap keeps one transaction from growing without bound if writers keep arriving.
constexpr std::size_t max_batch = 64;
// Of a write alone, on SQLITE_BUSY (another process holds the lock) or a PostgreSQL serialization failure
// or deadlock.
constexpr int max_attempts = 6;

// Whether a shared batch may send its writes' reads first: every write says what it reads, and no two
// read the same rows (a write must see what an earlier one in its batch wrote to them).
bool reads_ahead(const std::vector<write_batcher::job*>& batch) {
    std::unordered_set<std::string_view> keys;
    for (const auto* b : batch)
        if (!b->read_ahead || b->read_key.empty() || !keys.insert(b->read_key).second) return false;
    return true;
}

}  // namespace

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

// -- the steps of each backend ----------------------------------------------------------------------

namespace {
const std::string savepoint = "SAVEPOINT idgate_write", release = "RELEASE idgate_write",
                  rollback_to = "ROLLBACK TO idgate_write", commit = "COMMIT", rollback = "ROLLBACK";

// SQLite's statements run at once, prepared once per connection like the writes' (sqlite_prepared.hpp).
void execute(soci::session& sql, const std::string& statement) {
    sqlite_statement st(sqlite_connection(sql));
    st.run(statement);
}
}  // namespace

void sqlite_transaction::begin(soci::session& sql, bool) const { execute(sql, begin_); }
void sqlite_transaction::savepoint(soci::session& sql) const { execute(sql, detail::savepoint); }
void sqlite_transaction::release(soci::session& sql, bool keep) const {
    if (!keep) execute(sql, rollback_to);
    execute(sql, detail::release);
}
void sqlite_transaction::commit(soci::session& sql) const { execute(sql, detail::commit); }
void sqlite_transaction::rollback(soci::session& sql) const { execute(sql, detail::rollback); }

// PostgreSQL's travel in the connection's pipeline (pg_prepared.hpp): BEGIN, the savepoints and the
// deferred statements of every write go with the first statement that needs an answer, or with the COMMIT.
void postgres_transaction::begin(soci::session& sql, bool shared) const {
    // Any SOCI statement sends what waits before it runs.
    sql.set_query_transformation([&sql](const std::string& query) {
        if (PGconn* conn = postgres_connection(sql)) pg_flush(conn);
        return query;
    });
    PGconn* pg = postgres_connection(sql);
    pg_forget_ahead(pg);
    pg_queue_simple(pg, begin_);
    if (shared) pg_queue_simple(pg, std::string("SET LOCAL lock_timeout = '") + shared_lock_timeout + "'");
}
void postgres_transaction::savepoint(soci::session& sql) const {
    pg_queue_simple(postgres_connection(sql), detail::savepoint);
}
void postgres_transaction::release(soci::session& sql, bool keep) const {
    if (!keep) pg_queue_simple(postgres_connection(sql), rollback_to);
    pg_queue_simple(postgres_connection(sql), detail::release);
}
void postgres_transaction::commit(soci::session& sql) const {
    PGconn* pg = postgres_connection(sql);
    pg_queue_simple(pg, detail::commit);
    pg_flush(pg);
    pg_forget_ahead(pg);
}
void postgres_transaction::send(soci::session& sql) const { pg_flush(postgres_connection(sql)); }
void postgres_transaction::rollback(soci::session& sql) const {
    // Statements still queued were never sent; if nothing was, there is no transaction to end.
    PGconn* pg = postgres_connection(sql);
    pg_discard(pg);
    if (pg_in_transaction(pg)) sql << detail::rollback;
}

// -- the batches ------------------------------------------------------------------------------------

void write_batcher::run(job& j) {
    std::unique_lock lock(mutex_);
    queue_.push_back(&j);
    while (!j.done) {
        // A writer whose write another leader took waits for that batch; the others lead when a
        // transaction is free.
        if (j.taken || leaders_ >= max_leaders_) {
            j.wake.wait(lock);
            continue;
        }
        // Lead: take everything waiting (a write whose batch failed goes alone, in order).
        ++leaders_;
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
        for (job* b : batch) b->taken = true;
        lock.unlock();
        std::size_t kept = 0;
        bool read_ahead = false;
        const batch_result outcome = run_batch(batch, kept, read_ahead);
        lock.lock();
        --leaders_;
        if (outcome == batch_result::requeue) {
            for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
                (*it)->alone = true;
                (*it)->taken = false;
                queue_.push_front(*it);
            }
        } else {
            for (job* b : batch) b->done = true;
            if (kept > 0) {
                ++counts_.transactions;
                counts_.writes += kept;
                if (read_ahead) ++counts_.read_ahead;
            }
        }
        // Under the lock: a woken writer may return and take its job (and `wake`) with it.
        for (job* b : batch)
            if (b != &j && b->done) b->wake.notify_one();
        // The transaction is free again: the first writer waiting leads the next batch.
        if (!queue_.empty() && queue_.front() != &j) queue_.front()->wake.notify_one();
    }
    if (j.error) std::rethrow_exception(j.error);
}

write_batcher::counts write_batcher::committed() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

write_batcher::batch_result write_batcher::run_batch(const std::vector<job*>& batch, std::size_t& kept,
                                                     bool& read_ahead) {
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
                steps_.rollback(sql);
            } catch (...) {
                lease->mark_broken();
            }
        };
        try {
            try {
                steps_.begin(sql, shared);
                open = true;
                kept = 0;
                read_ahead = shared && reads_ahead(batch);
                if (read_ahead) {
                    try {
                        for (job* b : batch) b->read_ahead(b->state, sql);
                    } catch (const soci::soci_error&) {
                        throw;
                    } catch (...) {
                        throw batch_failure{std::current_exception()};
                    }
                    steps_.send(sql);
                }
                for (job* b : batch) {
                    b->error = nullptr;
                    if (shared) steps_.savepoint(sql);
                    bool keep = false;
                    try {
                        keep = b->run(b->state, sql, shared);
                    } catch (const batch_failure&) {
                        throw;
                    } catch (...) {
                        b->error = std::current_exception();
                    }
                    if (shared) steps_.release(sql, keep);
                    if (keep) ++kept;
                }
                if (kept == 0) {
                    abandon();
                    return batch_result::committed;
                }
                try {
                    steps_.commit(sql);
                    open = false;
                } catch (const soci::soci_error& e) {
                    // Alone, a failure the COMMIT reports (a deferred INSERT's unique violation) may be
                    // the write's own outcome rather than the transaction's.
                    job* only = batch.front();
                    if (shared || !only->settle) throw;
                    bool settled = false;
                    try {
                        settled = only->settle(only->state, e);
                    } catch (...) {
                        only->error = std::current_exception();
                        settled = true;
                    }
                    if (!settled) throw;
                    kept = 0;
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
