// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Group commit: the writes waiting at the same moment share one transaction.
//
// A durable COMMIT waits for the log to reach the disk, and a transaction costs its database a fixed
// amount of work besides its statements (BEGIN, COMMIT, the commit record, waking the writer). Writers that
// arrive while every write transaction is busy wait anyway; instead of each then paying a transaction of
// its own, the next of them (a leader) runs all of the waiting writes in one transaction, each inside its
// own savepoint, and commits once. Every write still sees the ones before it, exactly as if they had run
// one after the other, and nobody is told "done" before the COMMIT that made their write durable returned.
//
// - SQLite has one writer per database: one leader at a time.
// - PostgreSQL runs `leaders` transactions side by side (storage.postgres.write_transactions); only the
//   writers beyond them are batched, so a lightly loaded server runs each write alone, as before. Measured
//   in docs/benchmarks.md: four users created per transaction cost PostgreSQL about a quarter less CPU
//   per user than one each, eight about half.
//
// A write whose outcome is an error result rolls back to its savepoint and leaves the others alone. When
// the batch itself fails -- SQLITE_BUSY from another process, a lost connection, or on PostgreSQL any
// statement error, which aborts the whole transaction and cannot be told apart from the write it belongs to
// (a deferred INSERT fails only when its pipeline is sent) -- the whole transaction is rolled back and
// every write of it runs again in a transaction of its own, so one write's trouble is never another's.
//
// On PostgreSQL a write that reads before it writes (a PATCH locks and reads its user) costs its batch a
// round trip of its own. When every write of a shared batch can say beforehand which rows it reads, and
// none reads the rows of another (distinct `read_key`s), the batch sends all of those reads first, in one
// round trip, and each write then finds its rows already read (pg_statement::read_ahead). Measured by
// pgbench with eight PATCHes per transaction at two transactions at once (docs/benchmarks.md): 4,600-
// 4,950 PATCHes/s with a round trip each, 7,300-7,400/s with the reads sent together.
//
// Two shared PostgreSQL transactions can wait for each other (one holds a group row another's write
// needs, and the other way round), where writes alone would each have locked one row. PostgreSQL breaks
// such a deadlock only after deadlock_timeout (1 s by default); a shared transaction therefore waits for
// a lock at most `shared_lock_timeout` (lock_timeout), then runs again write by write, and writes alone
// wait as long as they always did.
#include <soci/soci.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "pool.hpp"

namespace idgate::store::detail {

// Thrown by a job's body for a failure of the transaction rather than of the write: the batch is rolled
// back and run again (a job alone is retried a few times, then `error` is what the writer sees).
struct batch_failure {
    std::exception_ptr error;  // what to report when retrying does not help
    bool retryable = false;    // SQLITE_BUSY, a PostgreSQL deadlock: worth another attempt after a pause
    bool connection_lost = false;
};

// A database error as a failure of the transaction: retryable (busy, deadlock, lock timeout), a lost
// connection, or anything else reported as the database being unavailable.
batch_failure transaction_failure(const soci::soci_error& e);

// How a backend opens, divides and ends a batch's transaction on a connection. Each step may throw
// soci::soci_error; `commit` is the step that learns whether everything sent before it worked.
class batch_transaction {
public:
    virtual ~batch_transaction() = default;
    // `shared`: several writes will share the transaction.
    virtual void begin(soci::session& sql, bool shared) const = 0;
    virtual void savepoint(soci::session& sql) const = 0;
    // Ends the current write's savepoint, undoing the write unless `keep`.
    virtual void release(soci::session& sql, bool keep) const = 0;
    virtual void commit(soci::session& sql) const = 0;
    // Sends what is queued (the reads ahead) and throws the first failure; SQLite queues nothing.
    virtual void send(soci::session&) const {}
    // Ends whatever is open without keeping it; throws only when the connection is unusable.
    virtual void rollback(soci::session& sql) const = 0;
};

class sqlite_transaction final : public batch_transaction {
public:
    explicit sqlite_transaction(std::string begin) : begin_(std::move(begin)) {}
    void begin(soci::session& sql, bool shared) const override;
    void savepoint(soci::session& sql) const override;
    void release(soci::session& sql, bool keep) const override;
    void commit(soci::session& sql) const override;
    void rollback(soci::session& sql) const override;

private:
    std::string begin_;
};

// Queued in the connection's pipeline: a batch of writes that need no answer is one round trip.
class postgres_transaction final : public batch_transaction {
public:
    explicit postgres_transaction(std::string begin) : begin_(std::move(begin)) {}
    void begin(soci::session& sql, bool shared) const override;
    void savepoint(soci::session& sql) const override;
    void release(soci::session& sql, bool keep) const override;
    void commit(soci::session& sql) const override;
    void send(soci::session& sql) const override;
    void rollback(soci::session& sql) const override;

    // Far above a batch's own time (a few milliseconds with its commit), far below deadlock_timeout.
    static constexpr const char* shared_lock_timeout = "100ms";

private:
    std::string begin_;
};

class write_batcher {
public:
    // One write transaction's body, type-erased: run(state, sql, shared) executes it on the batch's
    // connection and returns whether its changes stay. `shared`: other writes share the transaction. It
    // throws batch_failure for failures of the transaction; any other exception is the write's own (its
    // savepoint is rolled back, the exception reaches its writer).
    struct job {
        bool (*run)(void* state, soci::session& sql, bool shared) = nullptr;
        // A write alone whose COMMIT failed: whether that failure is the write's own outcome (a unique
        // violation of a deferred INSERT: the writer's errc::already_exists), rather than the transaction's.
        bool (*settle)(void* state, const soci::soci_error& e) = nullptr;
        void* state = nullptr;
        // Optional: queues the reads the write will make (its rows locked and read), to be sent with the
        // other writes' before any of them runs; `read_key` names those rows.
        void (*read_ahead)(void* state, soci::session& sql) = nullptr;
        std::string read_key{};
        std::exception_ptr error{};
        bool alone = false;  // its batch failed: it runs in a transaction of its own now
        bool taken = false;  // a leader is running it
        bool done = false;
        // Its writer sleeps on this, and is woken alone: when its batch ended, or when it may lead. (One
        // condition for all would wake every waiting writer at every batch's end, and a busy server has
        // dozens waiting.)
        std::condition_variable wake{};
    };

    // What /metrics reports: transactions committed and the writes they carried.
    struct counts {
        std::uint64_t transactions = 0;
        std::uint64_t writes = 0;
        std::uint64_t read_ahead = 0;  // batches that sent their writes' reads together
    };

    // `leaders`: how many batches may run at once (SQLite: 1).
    write_batcher(session_pool& pool, const batch_transaction& steps, std::size_t leaders)
        : pool_(pool), steps_(steps), max_leaders_(leaders < 1 ? 1 : leaders) {}

    // Runs `j` in the next transaction and returns once that transaction committed or failed; rethrows
    // the write's own exception.
    void run(job& j);
    counts committed() const;

private:
    enum class batch_result { committed, requeue, failed };
    // `kept`: how many of the batch's writes the committed transaction carried.
    batch_result run_batch(const std::vector<job*>& batch, std::size_t& kept, bool& read_ahead);

    session_pool& pool_;
    const batch_transaction& steps_;
    const std::size_t max_leaders_;
    mutable std::mutex mutex_;
    std::deque<job*> queue_;
    std::size_t leaders_ = 0;  // writers running a batch now
    counts counts_;
};

}  // namespace idgate::store::detail
