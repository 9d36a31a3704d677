// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/metrics.hpp"

#include <cstdio>

namespace idgate::gateway {
namespace {

// Label values escape backslash, quote and newline (Prometheus text format 0.0.4).
std::string label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

void metrics::register_routes(std::vector<std::string> route_names) {
    routes_.clear();
    route_names.push_back("unmatched");
    for (auto& n : route_names) {
        auto r = std::make_unique<per_route>();
        r->name = std::move(n);
        routes_.push_back(std::move(r));
    }
}

std::size_t metrics::slot_of(int status) {
    auto& known = slot_plus_one_[static_cast<std::size_t>(status - 100)];
    if (const auto slot = known.load(std::memory_order_acquire)) return slot - 1u;
    std::lock_guard lock(slot_mutex_);
    if (const auto slot = known.load(std::memory_order_relaxed)) return slot - 1u;
    auto used = slots_used_.load(std::memory_order_relaxed);
    if (used == status_slots - 1) {  // the last slot: every code beyond the others
        known.store(static_cast<std::uint8_t>(status_slots), std::memory_order_release);
        return status_slots - 1;
    }
    slot_status_[used] = status;
    slots_used_.store(used + 1, std::memory_order_release);
    known.store(static_cast<std::uint8_t>(used + 1), std::memory_order_release);
    return used;
}

void metrics::record(std::size_t route_index, int status, std::chrono::nanoseconds duration) {
    auto& r = *routes_[route_index < routes_.size() ? route_index : unmatched_index()];
    if (status >= 100 && status < 600) r.by_status[slot_of(status)].fetch_add(1, std::memory_order_relaxed);
    const double seconds = std::chrono::duration<double>(duration).count();
    std::size_t b = 0;
    while (b < buckets.size() && seconds > buckets[b]) ++b;
    r.histogram[b].fetch_add(1, std::memory_order_relaxed);
    r.duration_ns_sum.fetch_add(static_cast<std::uint64_t>(duration.count()), std::memory_order_relaxed);
    finished_.fetch_add(1, std::memory_order_relaxed);
}

std::string metrics::render() const {
    std::string out;
    out.reserve(8192);
    out += "# HELP idgate_http_requests_total HTTP requests by route template and status code.\n";
    out += "# TYPE idgate_http_requests_total counter\n";
    const auto slots = slots_used_.load(std::memory_order_acquire);
    for (const auto& r : routes_) {
        for (std::size_t i = 0; i < r->by_status.size(); ++i) {
            const auto n = r->by_status[i].load(std::memory_order_relaxed);
            if (n == 0) continue;
            const auto status = i < slots ? std::to_string(slot_status_[i]) : std::string("other");
            out += "idgate_http_requests_total{route=\"" + label(r->name) + "\",status=\"" + status + "\"} " +
                   std::to_string(n) + "\n";
        }
    }
    out += "# HELP idgate_http_request_duration_seconds Time from complete request head to response ready to write.\n";
    out += "# TYPE idgate_http_request_duration_seconds histogram\n";
    for (const auto& r : routes_) {
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= buckets.size(); ++b) cumulative += r->histogram[b].load(std::memory_order_relaxed);
        if (cumulative == 0) continue;
        const std::string name = label(r->name);
        std::uint64_t running = 0;
        for (std::size_t b = 0; b < buckets.size(); ++b) {
            running += r->histogram[b].load(std::memory_order_relaxed);
            out += "idgate_http_request_duration_seconds_bucket{route=\"" + name + "\",le=\"" + number(buckets[b]) +
                   "\"} " + std::to_string(running) + "\n";
        }
        out += "idgate_http_request_duration_seconds_bucket{route=\"" + name + "\",le=\"+Inf\"} " +
               std::to_string(cumulative) + "\n";
        out += "idgate_http_request_duration_seconds_sum{route=\"" + name + "\"} " +
               number(static_cast<double>(r->duration_ns_sum.load(std::memory_order_relaxed)) / 1e9) + "\n";
        out += "idgate_http_request_duration_seconds_count{route=\"" + name + "\"} " + std::to_string(cumulative) +
               "\n";
    }
    auto gauge = [&out](const char* name, const char* help, const char* type, auto value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
               std::to_string(value) + "\n";
    };
    gauge("idgate_http_requests_in_flight", "Requests being processed.", "gauge", in_flight.load());
    gauge("idgate_connections_open", "Open client connections.", "gauge", open_connections.load());
    gauge("idgate_connections_rejected_total", "Connections refused over server.max_connections.", "counter",
          rejected_connections.load());
    gauge("idgate_blocking_queue_depth", "Jobs waiting for or running on the blocking pool.", "gauge",
          blocking_queue_depth.load());
    gauge("idgate_blocking_rejected_total", "Requests refused with 503 because the blocking queue was full.",
          "counter", blocking_rejected.load());
    gauge("idgate_blocking_threads", "Threads of the blocking pool (it grows under load and shrinks when idle).",
          "gauge", blocking_threads.load());
    gauge("idgate_blocking_threads_retired_total", "Blocking-pool threads that left after their idle timeout.",
          "counter", blocking_threads_retired.load());
    out += "# HELP idgate_pipelined_reads_total One-user reads sent through pipelined database connections, by "
           "outcome (fallback: read again on the blocking pool).\n"
           "# TYPE idgate_pipelined_reads_total counter\n";
    out += "idgate_pipelined_reads_total{outcome=\"answered\"} " + std::to_string(pipelined_reads_answered.load()) + "\n";
    out += "idgate_pipelined_reads_total{outcome=\"fallback\"} " + std::to_string(pipelined_reads_fallback.load()) + "\n";
    gauge("idgate_pipelined_read_connections", "Pipelined read connections up.", "gauge",
          pipelined_read_connections.load());
    for (const auto& source : sources_) source(out);
    return out;
}

}  // namespace idgate::gateway
