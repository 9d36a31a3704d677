// SPDX-License-Identifier: AGPL-3.0-or-later
// The blocking pool grows under load up to its maximum, never past it, runs every job it is handed, shrinks
// back to its minimum when idle, grows again afterwards, and finishes queued work on join().
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "blocking_pool.hpp"

using idgate::gateway::blocking_pool;
using namespace std::chrono_literals;

namespace {

// Jobs that hold their thread until opened, counting how many run at once.
struct gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    int running = 0, most_at_once = 0, finished = 0;

    void hold() {
        std::unique_lock lock(mutex);
        most_at_once = std::max(most_at_once, ++running);
        changed.notify_all();
        changed.wait(lock, [this] { return open; });
        --running;
        ++finished;
        changed.notify_all();
    }
    bool wait_until(auto condition) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] { return condition(*this); });
    }
    void release() {
        std::lock_guard lock(mutex);
        open = true;
        changed.notify_all();
    }
};

// Polls (the pool's threads leave on their own clock); false if it never happened.
bool eventually(auto condition) {
    for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(10ms))
        if (condition()) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blocking_pool_suite)

BOOST_AUTO_TEST_CASE(grows_to_its_maximum_under_load_and_runs_every_job) {
    std::atomic<std::size_t> observed_threads{0};
    blocking_pool pool({.max_threads = 4, .min_threads = 1, .idle_timeout = 60s},
                       [&](std::size_t threads, std::size_t) { observed_threads = threads; });
    BOOST_TEST(pool.threads() == 1u);
    gate g;
    for (int i = 0; i < 7; ++i) pool.post([&g] { g.hold(); });
    BOOST_TEST(g.wait_until([](gate& s) { return s.running == 4; }));
    BOOST_TEST(pool.threads() == 4u);
    BOOST_TEST(observed_threads.load() == 4u);
    g.release();
    BOOST_TEST(g.wait_until([](gate& s) { return s.finished == 7; }));
    BOOST_TEST(g.most_at_once == 4);
    BOOST_TEST(pool.threads() == 4u);  // the idle timeout has not passed
    BOOST_TEST(pool.threads_retired() == 0u);
}

BOOST_AUTO_TEST_CASE(idle_threads_leave_down_to_the_minimum_and_the_pool_grows_again) {
    std::atomic<std::size_t> observed_retired{0};
    blocking_pool pool({.max_threads = 6, .min_threads = 2, .idle_timeout = 200ms},
                       [&](std::size_t, std::size_t retired) { observed_retired = retired; });
    gate first;
    for (int i = 0; i < 6; ++i) pool.post([&first] { first.hold(); });
    BOOST_TEST(first.wait_until([](gate& s) { return s.running == 6; }));
    first.release();
    BOOST_TEST(first.wait_until([](gate& s) { return s.finished == 6; }));

    BOOST_TEST(eventually([&] { return pool.threads() == 2u; }));
    BOOST_TEST(pool.threads_retired() == 4u);
    BOOST_TEST(observed_retired.load() == 4u);
    std::this_thread::sleep_for(600ms);  // several idle timeouts: the minimum stays
    BOOST_TEST(pool.threads() == 2u);

    gate second;
    for (int i = 0; i < 5; ++i) pool.post([&second] { second.hold(); });
    BOOST_TEST(second.wait_until([](gate& s) { return s.running == 5; }));
    BOOST_TEST(pool.threads() == 5u);
    second.release();
    BOOST_TEST(second.wait_until([](gate& s) { return s.finished == 5; }));
}

BOOST_AUTO_TEST_CASE(light_steady_work_keeps_one_thread_and_lets_the_others_leave) {
    // After a burst, a job every 20 ms (housekeeping) goes to the thread that went idle last, so the
    // others see their whole idle timeout pass. Handed out in turn, every thread would get one in time.
    blocking_pool pool({.max_threads = 6, .min_threads = 1, .idle_timeout = 300ms});
    gate burst;
    for (int i = 0; i < 6; ++i) pool.post([&burst] { burst.hold(); });
    BOOST_TEST(burst.wait_until([](gate& s) { return s.running == 6; }));
    burst.release();
    BOOST_TEST(burst.wait_until([](gate& s) { return s.finished == 6; }));
    std::atomic<int> ticks{0};
    std::size_t lowest = pool.threads();
    for (int i = 0; i < 100; ++i) {  // 2 s: more than six idle timeouts
        pool.post([&ticks] { ++ticks; });
        std::this_thread::sleep_for(20ms);
        lowest = std::min(lowest, pool.threads());
    }
    BOOST_TEST(lowest == 1u);
    BOOST_TEST(pool.threads_retired() == 5u);
    BOOST_TEST(eventually([&] { return ticks.load() == 100; }));
}

BOOST_AUTO_TEST_CASE(run_resumes_the_caller_on_its_executor_with_the_result_or_the_exception) {
    blocking_pool pool({.max_threads = 2, .min_threads = 1});
    boost::asio::io_context io;
    std::thread::id job_thread, resumed_on;
    int value = 0;
    std::string error;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            value = co_await pool.run([&] {
                job_thread = std::this_thread::get_id();
                return 42;
            });
            resumed_on = std::this_thread::get_id();
            try {
                co_await pool.run([]() -> int { throw std::runtime_error("the database is gone"); });
            } catch (const std::runtime_error& e) {
                error = e.what();
            }
        },
        boost::asio::detached);
    io.run();
    BOOST_TEST(value == 42);
    BOOST_TEST((job_thread != std::this_thread::get_id()));
    BOOST_TEST((resumed_on == std::this_thread::get_id()));
    BOOST_TEST(error == "the database is gone");
}

BOOST_AUTO_TEST_CASE(join_runs_the_queued_work_first) {
    std::atomic<int> ran{0};
    {
        blocking_pool pool({.max_threads = 2, .min_threads = 1, .idle_timeout = 60s});
        for (int i = 0; i < 50; ++i)
            pool.post([&ran] {
                std::this_thread::sleep_for(1ms);
                ++ran;
            });
        pool.join();
        BOOST_TEST(ran.load() == 50);
        BOOST_TEST(pool.threads() == 0u);
    }  // the destructor joins again: nothing left to do
    BOOST_TEST(ran.load() == 50);
}

BOOST_AUTO_TEST_CASE(jobs_handed_over_while_threads_time_out_all_run) {
    // Idle threads leave every few milliseconds while jobs keep coming: none may be stranded.
    blocking_pool pool({.max_threads = 8, .min_threads = 1, .idle_timeout = 2ms});
    std::atomic<int> ran{0};
    for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 4; ++i) pool.post([&ran] { ++ran; });
        std::this_thread::sleep_for(std::chrono::microseconds(500 * (round % 7)));
    }
    BOOST_TEST(eventually([&] { return ran.load() == 800; }));
    BOOST_TEST(pool.threads() >= 1u);
    BOOST_TEST(pool.threads() <= 8u);
}

BOOST_AUTO_TEST_SUITE_END()
