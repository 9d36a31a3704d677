// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The HTTP/1.1 server: Beast on C++20 coroutines, a small I/O thread pool, and a separate bounded pool
// for blocking work so that I/O threads never wait on the database. Beast and Asio stay in server.cpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "gateway/config.hpp"
#include "gateway/metrics.hpp"
#include "gateway/router.hpp"

namespace idgate::store {
class user_reader;
}

namespace idgate::gateway {

class server {
public:
    server(const server_config& config, const router& routes, metrics& stats, bool access_log);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and listens (port 0 picks a free port); returns the bound port. Throws std::runtime_error
    // with a clear message when the address is taken or the TLS files cannot be loaded.
    std::uint16_t listen();

    // Runs `job` on the blocking pool every `interval` until shutdown (housekeeping such as pruning).
    void every(std::chrono::seconds interval, std::function<void()> job);

    // Runs `job` on the blocking pool on every SIGHUP (configuration reloads).
    void on_sighup(std::function<void()> job);

    // Routes with a one_user_read read their user through `connections` pipelined connections, driven
    // by the I/O threads, instead of on the blocking pool; `open` connects one (it blocks: it is called
    // on the blocking pool, at start and after a connection is lost). Call before run().
    void use_pipelined_reads(std::function<std::unique_ptr<store::user_reader>()> open, std::size_t connections);

    // Serves until SIGTERM/SIGINT or request_shutdown(), then drains: stops accepting, closes idle
    // connections, lets in-flight requests finish (up to server.timeouts.shutdown_grace_seconds), waits
    // for blocking work, and returns.
    void run();

    // Thread-safe.
    void request_shutdown();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace idgate::gateway
