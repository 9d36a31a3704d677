// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Process metrics in the Prometheus text exposition format. Counters are lock-free atomics indexed by
// route, so recording costs a few relaxed increments per request.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace idgate::gateway {

class metrics {
public:
    // `route_names[i]` labels route index i; one extra slot counts requests that matched no route.
    // Called once, before the server starts.
    void register_routes(std::vector<std::string> route_names);

    std::size_t unmatched_index() const { return routes_.size() - 1; }
    void record(std::size_t route_index, int status, std::chrono::nanoseconds duration);
    // Requests recorded so far, of every route and status.
    std::uint64_t requests_finished() const { return finished_.load(std::memory_order_relaxed); }

    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::int64_t> open_connections{0};
    std::atomic<std::uint64_t> rejected_connections{0};  // over max_connections
    std::atomic<std::int64_t> blocking_queue_depth{0};
    std::atomic<std::uint64_t> blocking_rejected{0};     // queue over its limit: 503
    std::atomic<std::int64_t> blocking_threads{0};
    std::atomic<std::uint64_t> blocking_threads_retired{0};  // left after their idle timeout
    // One-user reads sent through pipelined connections (store/user_reader.hpp): answered there, or
    // handed to the blocking pool (no healthy connection, or one lost with the read in flight).
    std::atomic<std::uint64_t> pipelined_reads_answered{0};
    std::atomic<std::uint64_t> pipelined_reads_fallback{0};
    std::atomic<std::int64_t> pipelined_read_connections{0};  // connected and healthy

    // Gauges read at scrape time from other modules (database pool), as name -> value lines.
    using gauge_source = std::function<void(std::string& out)>;
    void add_gauge_source(gauge_source source) { sources_.push_back(std::move(source)); }

    std::string render() const;

    static constexpr std::array<double, 14> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1.0,   2.5,  5.0,  10.0};

    // Distinct status codes counted per route; codes seen after these many count as status="other".
    static constexpr std::size_t status_slots = 48;

private:
    // A status code's counter slot, the same in every route, given out on the code's first use: a route
    // keeps a few dozen counters instead of one per possible code (100-599), 4 KB each of ~100 routes.
    std::size_t slot_of(int status);

    struct per_route {
        std::string name;
        std::array<std::atomic<std::uint64_t>, status_slots> by_status{};  // index: slot_of(status)
        std::array<std::atomic<std::uint64_t>, buckets.size() + 1> histogram{};  // last = +Inf
        std::atomic<std::uint64_t> duration_ns_sum{0};
    };
    std::vector<std::unique_ptr<per_route>> routes_;
    std::atomic<std::uint64_t> finished_{0};
    std::vector<gauge_source> sources_;
    std::array<std::atomic<std::uint8_t>, 500> slot_plus_one_{};  // by status - 100; 0: no slot yet
    std::array<int, status_slots> slot_status_{};                 // 0: other
    std::atomic<std::size_t> slots_used_{0};
    std::mutex slot_mutex_;  // giving out a slot, once per status code
};

}  // namespace idgate::gateway
