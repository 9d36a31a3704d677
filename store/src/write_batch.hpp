// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Group commit for SQLite. SQLite has one writer per database, and with synchronous=FULL each COMMIT
// waits for the write-ahead log to reach the disk. Writers that arrive while a transaction is running
// therefore wait anyway; instead of each then paying a transaction of its own, the next of them (the
// leader) runs all of the waiting writes in one transaction, each inside its own savepoint, and commits
// once. Every write still sees the ones before it, exactly as if they had run one after the other, and
// nobody is told "done" before the COMMIT that made their write durable has returned.
//
// A write whose outcome is an error result rolls back to its savepoint and leaves the others alone. When
// the batch itself fails (SQLITE_BUSY from another process, a lost connection, a savepoint SQLite no
// longer knows), the whole transaction is rolled back and every write of it runs again in a transaction
// of its own, so one write's trouble is never another's.
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
    bool retryable = false;    // SQLITE_BUSY and friends: worth another attempt after a pause
    bool connection_lost = false;
};

class write_batcher {
public:
    // One write transaction's body, type-erased: run(state, sql) executes it on the batch's connection
    // and returns whether its changes stay. It throws batch_failure for failures of the transaction; any
    // other exception is the write's own (its savepoint is rolled back, the exception reaches its writer).
    struct job {
        bool (*run)(void* state, soci::session& sql) = nullptr;
        void* state = nullptr;
        std::exception_ptr error{};
        bool alone = false;  // its batch failed: it runs in a transaction of its own now
        bool done = false;
    };

    // What /metrics reports: transactions committed and the writes they carried.
    struct counts {
        std::uint64_t transactions = 0;
        std::uint64_t writes = 0;
    };

    write_batcher(session_pool& pool, std::string begin_write) : pool_(pool), begin_(std::move(begin_write)) {}

    // Runs `j` in the next transaction and returns once that transaction committed or failed; rethrows
    // the write's own exception.
    void run(job& j);
    counts committed() const;

private:
    enum class batch_result { committed, requeue, failed };
    // `kept`: how many of the batch's writes the committed transaction carried.
    batch_result run_batch(const std::vector<job*>& batch, std::size_t& kept);

    session_pool& pool_;
    const std::string begin_;
    mutable std::mutex mutex_;
    std::condition_variable finished_;
    std::deque<job*> queue_;
    bool leading_ = false;  // some writer is running a batch
    counts counts_;
};

}  // namespace idgate::store::detail
