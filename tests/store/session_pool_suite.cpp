// SPDX-License-Identifier: AGPL-3.0-or-later
// The connection pool's idle closing, deterministically, on SQLite files (the pool is the same for both
// backends): which connections close, how many stay open, that a lease opens a closed one again outside
// the lock, and that a failed reopen loses no slot.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>

#include "core/crypto.hpp"
#include "pool.hpp"

using idgate::store::detail::session_pool;
using namespace std::chrono_literals;

namespace {

struct sqlite_file_pool {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("idgate-pool-" + idgate::core::new_uuid() + ".db");
    std::atomic<int> connects{0};
    std::atomic<bool> refuse{false};
    session_pool pool;

    explicit sqlite_file_pool(std::size_t size, std::size_t keep_open)
        : pool(size,
               [this] {
                   if (refuse) throw idgate::store::unavailable("the database is down");
                   ++connects;
                   return std::make_unique<soci::session>(*soci::factory_sqlite3(), "db=" + path.string());
               },
               1000ms, nullptr, {60s, keep_open}) {}
    ~sqlite_file_pool() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

int select_one(session_pool::lease& l) {
    int one = 0;
    *l << "SELECT 1", soci::into(one);
    return one;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_pool_idle)

BOOST_AUTO_TEST_CASE(idle_connections_close_down_to_the_minimum_and_leases_open_them_again) {
    sqlite_file_pool p(4, 1);
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(p.connects.load() == 4);
    BOOST_TEST(p.pool.stats().open == 4u);
    BOOST_TEST(p.pool.close_idle(start) == 0u);  // opened just now
    BOOST_TEST(p.pool.close_idle(start + 61s) == 3u);
    BOOST_TEST(p.pool.stats().open == 1u);
    BOOST_TEST(p.pool.close_idle(start + 10min) == 0u);  // the minimum stays, however long

    {
        // Three at once: the open one, and two opened again.
        auto a = p.pool.acquire();
        auto b = p.pool.acquire();
        auto c = p.pool.acquire();
        BOOST_TEST(p.connects.load() == 6);
        BOOST_TEST(p.pool.stats().open == 3u);
        BOOST_TEST(p.pool.stats().in_use == 3u);
        BOOST_TEST(select_one(a) + select_one(b) + select_one(c) == 3);
    }
    BOOST_TEST(p.pool.stats().in_use == 0u);
    BOOST_TEST(p.pool.close_idle(std::chrono::steady_clock::now() + 61s) == 2u);
    BOOST_TEST(p.pool.stats().open == 1u);
    auto again = p.pool.acquire();  // the open one: no new connection
    BOOST_TEST(p.connects.load() == 6);
    BOOST_TEST(select_one(again) == 1);
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_close_first) {
    sqlite_file_pool p(2, 1);
    std::optional<session_pool::lease> first(p.pool.acquire()), second(p.pool.acquire());
    first.reset();
    std::this_thread::sleep_for(20ms);
    const auto before_second = std::chrono::steady_clock::now();
    second.reset();
    // As of this instant the first has been unused for the timeout, the second not yet.
    BOOST_TEST(p.pool.close_idle(before_second + 60s - 1ms) == 1u);
    BOOST_TEST(p.pool.stats().open == 1u);
    // The one left open is the one used last, and the next lease gets it without connecting.
    auto next = p.pool.acquire();
    BOOST_TEST(p.connects.load() == 2);
    BOOST_TEST(select_one(next) == 1);
}

BOOST_AUTO_TEST_CASE(a_reopen_that_fails_is_an_error_and_loses_no_slot) {
    sqlite_file_pool p(3, 1);
    BOOST_TEST(p.pool.close_idle(std::chrono::steady_clock::now() + 61s) == 2u);
    p.refuse = true;
    {
        auto open = p.pool.acquire();  // the open one needs no connecting
        BOOST_CHECK_THROW(p.pool.acquire(), idgate::store::unavailable);
        BOOST_CHECK_THROW(p.pool.acquire(), idgate::store::unavailable);
        BOOST_TEST(p.pool.stats().in_use == 1u);
        BOOST_TEST(p.pool.stats().open == 1u);
    }
    p.refuse = false;
    auto a = p.pool.acquire();
    auto b = p.pool.acquire();
    auto c = p.pool.acquire();
    BOOST_TEST(p.pool.stats().open == 3u);
    BOOST_TEST(select_one(a) + select_one(b) + select_one(c) == 3);
}

BOOST_AUTO_TEST_SUITE_END()
