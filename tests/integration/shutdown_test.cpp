// SPDX-License-Identifier: AGPL-3.0-or-later
// SIGTERM while clients are writing: every write the server acknowledged must survive a restart.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"

using namespace idgate::test;
using http::verb;

BOOST_AUTO_TEST_SUITE(graceful_shutdown)

BOOST_AUTO_TEST_CASE(sigterm_during_a_stream_of_writes_loses_no_acknowledged_write) {
    gateway_process gw;
    const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + gw.admin_token()}};
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::atomic<bool> go{true};
    std::atomic<int> attempts{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&, t] {
            int i = 0;
            while (go) {
                try {
                    http_client c(gw.port());
                    while (go) {
                        const std::string slug = "w" + std::to_string(t) + "-" + std::to_string(i++);
                        ++attempts;
                        const auto r = c.request(verb::post, "/api/v1/organizations",
                                                 R"({"slug":")" + slug + R"(","name":"n"})", auth);
                        if (r.status == 201) {
                            std::lock_guard lock(mutex);
                            acknowledged.insert(slug);
                        }
                        if (r.header("Connection") == "close") break;
                    }
                } catch (const std::exception&) {
                    // Refused or closed during shutdown: that write was never acknowledged.
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    gw.signal(SIGTERM);
    const int status = gw.wait_exit(std::chrono::seconds(30));
    go = false;
    for (auto& w : writers) w.join();
    BOOST_TEST(status == 0);
    BOOST_TEST_REQUIRE(acknowledged.size() > 10u);

    gw.restart();
    const auto list = boost::json::parse(call(gw.port(), verb::get, "/api/v1/organizations", "", auth).body);
    std::set<std::string> stored;
    for (const auto& o : list.at("organizations").as_array()) stored.insert(std::string(o.at("slug").as_string()));
    std::size_t lost = 0;
    for (const auto& slug : acknowledged) lost += stored.count(slug) == 0;
    BOOST_TEST(lost == 0u);
    BOOST_TEST_MESSAGE("acknowledged " << acknowledged.size() << " of " << attempts.load() << " writes; stored "
                                       << stored.size());
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_connections_do_not_delay_shutdown) {
    gateway_process gw("  timeouts: {idle_seconds: 600, shutdown_grace_seconds: 30}\n");
    http_client idle(gw.port());
    BOOST_TEST(idle.request(verb::get, "/healthz").status == 200);
    const auto start = std::chrono::steady_clock::now();
    gw.signal(SIGTERM);
    BOOST_TEST(gw.wait_exit(std::chrono::seconds(10)) == 0);
    BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_SUITE_END()
