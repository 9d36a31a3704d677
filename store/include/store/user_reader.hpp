// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// One-user reads without a thread: a PostgreSQL connection in libpq's pipeline mode, driven by an event
// loop (the gateway's I/O thread) instead of a blocking call.
//
// Why: a read through the blocking pool costs two thread hand-offs and a database wake-up per request,
// and on a small machine those, not the query, are most of a `GET /Users/{id}` (docs/benchmarks.md).
// Here the reads that arrive together are sent together, ended by one Sync, and their answers come
// back together: one wake-up of the database and of the I/O thread per batch, and no thread waits
// (PostgreSQL's protocol, §55.2.4 "Pipelining"; libpq §34.5 "Pipeline Mode").
//
// A reader is an optimisation with no semantics of its own: a read it cannot answer (connection lost,
// pipeline aborted, an unexpected database error) finishes without an outcome, and the caller reads the
// same user the blocking way, which reports any real failure as usual.
//
// Not thread-safe: one thread (or strand) drives a reader. Nothing blocks after open_user_reader().
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "schema/model.hpp"
#include "store/errc.hpp"
#include "store/store.hpp"

namespace idgate::store {

class user_reader {
public:
    // What a read finished with: the user or errc::not_found; nullopt when this reader could not
    // answer it (read it another way). Passed on by rvalue reference from here to the response: a user
    // is some twenty strings, and moving it at every hop of the read's way cost a tenth of the request.
    using outcome = std::optional<result<schema::user>>;

    virtual ~user_reader() = default;

    // The connection's socket: wait until it is readable, then call receive(); when send() returned
    // false, wait until it is writable and call send() again.
    virtual int socket() const = 0;
    // Queues the read. False when the connection is broken: nothing was queued.
    virtual bool submit(const user_key& key) = 0;
    // Ends the batch of reads queued since the last call and sends what libpq holds. False while bytes
    // remain unsent (the socket is full); healthy() tells whether that is a failure.
    virtual bool send() = 0;
    // Takes what the server sent and finishes each read whose answer is complete, in submission order.
    // On a broken connection every read in flight finishes without an outcome and healthy() turns false.
    virtual void receive(const std::function<void(outcome&&)>& finished) = 0;
    virtual bool healthy() const = 0;
    // Why the reader stopped being healthy, for the log.
    virtual const std::string& problem() const = 0;
    // Reads submitted and not finished yet.
    virtual std::size_t in_flight() const = 0;
};

// Connects (blocking: call it off the I/O thread) and prepares the reads. Throws unavailable when the
// database cannot be reached.
std::unique_ptr<user_reader> open_user_reader(const postgres_options& options);

}  // namespace idgate::store
