// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pipelined_reads.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <optional>

#include "core/log.hpp"

namespace idgate::gateway {

namespace net = boost::asio;

// One connection. Touched only on io_.
struct pipelined_reads::slot {
    explicit slot(const net::any_io_executor& io) : retry(io) {}
    std::unique_ptr<store::user_reader> reader;  // null while (re)connecting
    // The reader's socket, for readiness only (a duplicate descriptor: libpq keeps and closes its own).
    std::optional<net::posix::stream_descriptor> socket;
    std::deque<handler> waiting;  // one per read in flight, in the order the reader finishes them
    bool send_scheduled = false;
    bool waiting_writable = false;
    std::uint64_t generation = 0;  // a new connection or a loss: callbacks of an older one ignore themselves
    int failures = 0;              // consecutive failed connects, for the backoff
    net::steady_timer retry;
};

pipelined_reads::pipelined_reads(net::any_io_executor io, blocking_pool& blocking, opener open,
                                 std::size_t connections, metrics& stats)
    : io_(std::move(io)), blocking_(blocking), open_(std::move(open)), stats_(stats) {
    for (std::size_t i = 0; i < connections; ++i) slots_.push_back(std::make_unique<slot>(io_));
}

pipelined_reads::~pipelined_reads() = default;

void pipelined_reads::start() {
    net::dispatch(io_, [this] {
        for (auto& s : slots_) connect(*s);
    });
}

void pipelined_reads::stop() {
    net::dispatch(io_, [this] {
        if (stopped_) return;
        stopped_ = true;
        for (auto& s : slots_) {
            s->retry.cancel();
            if (s->reader) lost(*s);
        }
    });
}

net::awaitable<pipelined_reads::outcome> pipelined_reads::read(store::user_key key) {
    return net::async_initiate<const net::use_awaitable_t<>&, void(outcome)>(
        [this](auto h, store::user_key k) {
            // The coroutine's handler is move-only; std::function wants a copyable callable.
            auto shared = std::make_shared<decltype(h)>(std::move(h));
            handler waiting{net::get_associated_executor(*shared, io_), [shared](outcome&& o) { (*shared)(std::move(o)); }};
            net::dispatch(io_, [this, k = std::move(k), waiting = std::move(waiting)]() mutable {
                submit(k, std::move(waiting));
            });
        },
        net::use_awaitable, std::move(key));
}

void pipelined_reads::submit(const store::user_key& key, handler h) {
    // The connection with the fewest reads in flight: the database answers the connections' batches in
    // parallel, one backend each.
    slot* best = nullptr;
    for (auto& s : slots_)
        if (s->reader && s->reader->healthy() && (!best || s->waiting.size() < best->waiting.size())) best = s.get();
    if (stopped_ || !best) return finish(std::move(h), std::nullopt);
    if (!best->reader->submit(key)) {
        finish(std::move(h), std::nullopt);
        return lost(*best);
    }
    best->waiting.push_back(std::move(h));
    // Sent once the I/O thread has run what is ready now: the reads of the requests parsed meanwhile
    // travel in the same batch.
    if (!best->send_scheduled) {
        best->send_scheduled = true;
        net::post(io_, [this, s = best, g = best->generation] {
            if (s->generation != g) return;
            s->send_scheduled = false;
            send(*s);
        });
    }
}

void pipelined_reads::send(slot& s) {
    if (s.reader->send()) return;
    if (!s.reader->healthy()) return lost(s);
    if (s.waiting_writable) return;
    // The socket is full: the rest goes when it drains.
    s.waiting_writable = true;
    s.socket->async_wait(net::posix::descriptor_base::wait_write,
                         [this, &s, g = s.generation](const boost::system::error_code& ec) {
                             if (s.generation != g || ec) return;
                             s.waiting_writable = false;
                             send(s);
                         });
}

void pipelined_reads::wait_readable(slot& s) {
    s.socket->async_wait(net::posix::descriptor_base::wait_read,
                         [this, &s, g = s.generation](const boost::system::error_code& ec) {
                             if (s.generation != g || ec) return;
                             // Armed again before reading: an answer that lands while this runs wakes
                             // us once more instead of waiting for the next one.
                             wait_readable(s);
                             s.reader->receive([&](outcome&& o) {
                                 handler h = std::move(s.waiting.front());
                                 s.waiting.pop_front();
                                 finish(std::move(h), std::move(o));
                             });
                             if (!s.reader->healthy()) lost(s);
                         });
}

void pipelined_reads::finish(handler h, outcome&& o) {
    (o ? stats_.pipelined_reads_answered : stats_.pipelined_reads_fallback).fetch_add(1, std::memory_order_relaxed);
    // Resumed through its own executor (its connection's strand with several I/O threads), after this
    // handler: never inside the reader's receive loop.
    net::post(h.executor, [resume = std::move(h.resume), o = std::move(o)]() mutable { resume(std::move(o)); });
}

void pipelined_reads::lost(slot& s) {
    if (!s.reader) return;
    if (!stopped_)
        core::log::warn("pipelined read connection lost; reads take the blocking pool until it is back",
                        {{"error", s.reader->problem()}});
    ++s.generation;
    stats_.pipelined_read_connections.fetch_sub(1);
    auto waiting = std::move(s.waiting);
    s.waiting.clear();
    for (auto& h : waiting) finish(std::move(h), std::nullopt);
    s.socket.reset();
    s.reader.reset();
    s.send_scheduled = false;
    s.waiting_writable = false;
    if (!stopped_) retry_later(s);
}

void pipelined_reads::connect(slot& s) {
    if (stopped_) return;
    blocking_.post([this, &s] {
        std::unique_ptr<store::user_reader> reader;
        std::string error;
        try {
            reader = open_();
        } catch (const std::exception& e) {
            error = e.what();
        }
        net::post(io_, [this, &s, reader = std::move(reader), error]() mutable {
            if (stopped_) return;
            if (!reader) {
                core::log::warn("pipelined read connection failed; retrying", {{"error", error}});
                return retry_later(s);
            }
            const int fd = ::dup(reader->socket());
            if (fd < 0) {
                core::log::warn("pipelined read connection: cannot watch its socket", {{"error", std::strerror(errno)}});
                return retry_later(s);
            }
            s.reader = std::move(reader);
            s.socket.emplace(io_, fd);
            ++s.generation;
            s.failures = 0;
            stats_.pipelined_read_connections.fetch_add(1);
            wait_readable(s);
        });
    });
}

void pipelined_reads::retry_later(slot& s) {
    // 1 s, 2 s, 4 s ... at most 30 s between attempts.
    const int step = std::min(s.failures++, 5);
    s.retry.expires_after(std::min(std::chrono::seconds(1 << step), std::chrono::seconds(30)));
    s.retry.async_wait([this, &s](const boost::system::error_code& ec) {
        if (!ec) connect(s);
    });
}

}  // namespace idgate::gateway
