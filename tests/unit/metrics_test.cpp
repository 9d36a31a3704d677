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
