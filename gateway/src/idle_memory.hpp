// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The process's heap between bursts of work. glibc's malloc keeps what a burst freed for the next one, in
// one arena per thread that ever met contention (up to eight per core): after a load, an idle gateway
// holds megabytes it no longer uses. Two measures, both glibc-only (elsewhere they do nothing):
//   - limit_malloc_arenas: no more arenas than threads that can run at once, unless the operator set
//     MALLOC_ARENA_MAX;
//   - idle_memory_release decides when the server has gone quiet, and release_free_heap hands the heap's
//     free pages back to the kernel then (malloc_trim).
#include <cstddef>
#include <cstdint>

namespace idgate::gateway {

// Call before the server's threads start (serve() does). Returns the limit set, 0 if left as it was.
int limit_malloc_arenas();

// Returns the process's resident anonymous memory given back, in KiB (0 where unsupported).
std::size_t release_free_heap();

// Fed, at a fixed interval, the count of requests finished so far, those in flight, and what the server
// holds for bursts: blocking-pool threads and open database connections. It says "release now" once per
// quiet period: at the first tick with nothing in flight and nothing finished since the previous tick,
// after a tick that saw work; and again at the first quiet tick after threads or connections were let go
// (blocking_pool.hpp: a thread's malloc cache returns to the heap when it leaves; a connection frees its
// buffers and statements), a minute after the work. A server that stays busy, or stays idle, is left alone.
class idle_memory_release {
public:
    bool tick(std::uint64_t finished, std::int64_t in_flight, std::int64_t held) {
        const bool quiet = finished == last_finished_ && in_flight == 0;
        last_finished_ = finished;
        if (held < last_held_) release_due_ = true;
        last_held_ = held;
        if (!quiet) {
            release_due_ = true;
            return false;
        }
        if (!release_due_) return false;
        release_due_ = false;
        return true;
    }

private:
    std::uint64_t last_finished_ = 0;
    std::int64_t last_held_ = 0;
    bool release_due_ = false;
};

}  // namespace idgate::gateway
