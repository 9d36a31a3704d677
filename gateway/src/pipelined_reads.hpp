// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// One-user reads on the I/O thread: the Asio half of store::user_reader. A few PostgreSQL connections in
// libpq's pipeline mode; reads that arrive while the I/O thread works are sent as one batch on the
// least busy connection, and each answer resumes its request. Internal to the server (server.cpp).
//
// Nothing here blocks the I/O thread: connecting runs on the blocking pool, and a connection that is
// lost is opened again there, with backoff. Until one is up, reads finish without an outcome and the
// request takes the blocking path, so losing these connections costs speed, never answers.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "blocking_pool.hpp"
#include "gateway/metrics.hpp"
#include "store/user_reader.hpp"

namespace idgate::gateway {

class pipelined_reads {
public:
    using opener = std::function<std::unique_ptr<store::user_reader>()>;  // blocking: connects one
    using outcome = store::user_reader::outcome;

    // `io`: where the connections are driven (the I/O context, or a strand of it with several I/O threads).
    pipelined_reads(boost::asio::any_io_executor io, blocking_pool& blocking, opener open,
                    std::size_t connections, metrics& stats);
    ~pipelined_reads();
    pipelined_reads(const pipelined_reads&) = delete;
    pipelined_reads& operator=(const pipelined_reads&) = delete;

    // Opens the connections on the blocking pool; reads use each as soon as it is up.
    void start();
    // Closes them (on the I/O executor); reads in flight finish without an outcome. Idempotent.
    void stop();
    // The user, or nullopt: read it the blocking way.
    boost::asio::awaitable<outcome> read(store::user_key key);

private:
    // A request waiting for its read: resumed with the outcome on its own executor.
    struct handler {
        boost::asio::any_io_executor executor;
        std::function<void(outcome&&)> resume;
    };
    struct slot;
    void submit(const store::user_key& key, handler h);
    void send(slot& s);
    void wait_readable(slot& s);
    void lost(slot& s);
    void connect(slot& s);
    void retry_later(slot& s);
    void finish(handler h, outcome&& o);

    boost::asio::any_io_executor io_;
    blocking_pool& blocking_;
    opener open_;
    metrics& stats_;
    std::vector<std::unique_ptr<slot>> slots_;
    bool stopped_ = false;
};

}  // namespace idgate::gateway
