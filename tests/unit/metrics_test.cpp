// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/test/unit_test.hpp>

#include "gateway/metrics.hpp"

using namespace idgate::gateway;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(metrics_text)

BOOST_AUTO_TEST_CASE(counts_by_route_and_status_and_fills_histogram) {
    metrics m;
    m.register_routes({"GET /healthz", "POST /api/v1/organizations"});
    m.record(0, 200, microseconds(300));
    m.record(0, 200, milliseconds(3));
    m.record(1, 409, milliseconds(30));
    m.record(m.unmatched_index(), 404, microseconds(10));
    const auto text = m.render();
    BOOST_TEST(text.find("idgate_http_requests_total{route=\"GET /healthz\",status=\"200\"} 2\n") != std::string::npos);
    BOOST_TEST(text.find("{route=\"POST /api/v1/organizations\",status=\"409\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("{route=\"unmatched\",status=\"404\"} 1\n") != std::string::npos);
    // Cumulative buckets: one request at or below 0.5 ms, both at or below 5 ms.
    BOOST_TEST(text.find("bucket{route=\"GET /healthz\",le=\"0.0005\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("bucket{route=\"GET /healthz\",le=\"0.005\"} 2\n") != std::string::npos);
    BOOST_TEST(text.find("bucket{route=\"GET /healthz\",le=\"+Inf\"} 2\n") != std::string::npos);
    BOOST_TEST(text.find("idgate_http_request_duration_seconds_count{route=\"GET /healthz\"} 2\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_status_code_is_counted_and_codes_beyond_the_slots_count_as_other) {
    metrics m;
    m.register_routes({"GET /a", "GET /b"});
    // More distinct codes than there are slots: the first ones keep their own counter, in any route.
    const int distinct = static_cast<int>(metrics::status_slots) + 10;
    for (int i = 0; i < distinct; ++i) m.record(i % 2, 200 + i, microseconds(1));
    m.record(1, 200, microseconds(1));
    m.record(0, 599, microseconds(1));
    m.record(0, 599, microseconds(1));
    const auto text = m.render();
    BOOST_TEST(text.find("{route=\"GET /a\",status=\"200\"} 1\n") != std::string::npos, text);
    BOOST_TEST(text.find("{route=\"GET /b\",status=\"200\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("{route=\"GET /b\",status=\"201\"} 1\n") != std::string::npos);
    const int last_own = 200 + static_cast<int>(metrics::status_slots) - 2;
    BOOST_TEST(text.find("status=\"" + std::to_string(last_own) + "\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("status=\"" + std::to_string(last_own + 1) + "\"}") == std::string::npos);
    // 11 codes from 200 + slots - 1 on, split over the two routes, and 599 twice in route a.
    BOOST_TEST(text.find("{route=\"GET /a\",status=\"other\"} 7\n") != std::string::npos, text);
    BOOST_TEST(text.find("{route=\"GET /b\",status=\"other\"} 6\n") != std::string::npos, text);
    std::uint64_t total = 0;
    for (std::size_t at = text.find("idgate_http_requests_total{"); at != std::string::npos;
         at = text.find("idgate_http_requests_total{", at + 1))
        total += std::stoull(text.substr(text.find("} ", at) + 2));
    BOOST_TEST(total == static_cast<std::uint64_t>(distinct) + 3u);
}

BOOST_AUTO_TEST_CASE(gauges_and_sources_are_rendered) {
    metrics m;
    m.register_routes({});
    m.in_flight = 3;
    m.blocking_queue_depth = 5;
    m.add_gauge_source([](std::string& out) { out += "idgate_db_pool_waiting 7\n"; });
    const auto text = m.render();
    BOOST_TEST(text.find("idgate_http_requests_in_flight 3\n") != std::string::npos);
    BOOST_TEST(text.find("idgate_blocking_queue_depth 5\n") != std::string::npos);
    BOOST_TEST(text.find("idgate_db_pool_waiting 7\n") != std::string::npos);
    BOOST_TEST(text.find("# TYPE idgate_http_requests_in_flight gauge") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
