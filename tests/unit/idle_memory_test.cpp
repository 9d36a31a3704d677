// SPDX-License-Identifier: AGPL-3.0-or-later
// When the gateway hands its free heap back to the kernel: once per quiet period after work, never while
// busy or already idle; and that the hand-back itself returns freed memory.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "idle_memory.hpp"

using idgate::gateway::idle_memory_release;

namespace {

std::size_t resident_anonymous_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("RssAnon:", 0) == 0) return std::stoul(line.substr(8));
    return 0;
}

// The sanitizers' allocator keeps freed memory in quarantine, whatever malloc_trim says.
boost::test_tools::assertion_result glibc_allocator(boost::unit_test::test_unit_id) {
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
    return boost::test_tools::assertion_result(false);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return boost::test_tools::assertion_result(false);
#else
    return true;
#endif
#else
    return true;
#endif
}

}  // namespace

BOOST_AUTO_TEST_SUITE(idle_memory)

BOOST_AUTO_TEST_CASE(releases_once_per_quiet_period_after_work) {
    idle_memory_release quiet;
    BOOST_TEST(!quiet.tick(0, 0, 2));   // idle since start: nothing to give back
    BOOST_TEST(!quiet.tick(0, 0, 2));
    BOOST_TEST(!quiet.tick(40, 3, 2));  // busy
    BOOST_TEST(!quiet.tick(90, 0, 2));  // finished some since the last tick
    BOOST_TEST(quiet.tick(90, 0, 2));   // quiet now: release
    BOOST_TEST(!quiet.tick(90, 0, 2));  // still quiet: once is enough
    BOOST_TEST(!quiet.tick(90, 0, 2));
    BOOST_TEST(!quiet.tick(91, 0, 2));  // one more request
    BOOST_TEST(quiet.tick(91, 0, 2));
}

BOOST_AUTO_TEST_CASE(a_long_request_in_flight_is_not_quiet) {
    idle_memory_release quiet;
    BOOST_TEST(!quiet.tick(5, 1, 2));
    BOOST_TEST(!quiet.tick(5, 1, 2));  // nothing finished, but one still running
    BOOST_TEST(quiet.tick(6, 0, 2) == false);
    BOOST_TEST(quiet.tick(6, 0, 2));
}

BOOST_AUTO_TEST_CASE(releases_again_when_threads_or_connections_are_let_go) {
    idle_memory_release quiet;
    BOOST_TEST(!quiet.tick(0, 0, 2));
    BOOST_TEST(!quiet.tick(500, 0, 32));  // a burst grew the pool
    BOOST_TEST(quiet.tick(500, 0, 32));   // quiet: release what the burst freed
    BOOST_TEST(!quiet.tick(500, 0, 32));
    BOOST_TEST(quiet.tick(500, 0, 20));   // a minute later, idle threads leave: what they held goes back
    BOOST_TEST(quiet.tick(500, 0, 2));    // more left since
    BOOST_TEST(!quiet.tick(500, 0, 2));
    BOOST_TEST(!quiet.tick(600, 0, 1));   // busy: not now...
    BOOST_TEST(quiet.tick(600, 0, 1));    // ...but at the next quiet tick
    BOOST_TEST(!quiet.tick(600, 0, 4));   // growing is not a reason
    BOOST_TEST(!quiet.tick(600, 0, 4));
}

BOOST_AUTO_TEST_CASE(freed_heap_goes_back_to_the_kernel, *boost::unit_test::precondition(glibc_allocator)) {
    // 32 MB in small blocks, all freed but the last, which pins the top of the heap so that free() alone
    // cannot shrink it.
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 32 * 1024; ++i) {
        blocks.emplace_back(new char[1000]);
        std::fill_n(blocks.back().get(), 1000, static_cast<char>(i));
    }
    auto pin = std::move(blocks.back());
    blocks.pop_back();
    blocks.clear();
    const auto before = resident_anonymous_kib();
    const auto released = idgate::gateway::release_free_heap();
    const auto after = resident_anonymous_kib();
    BOOST_TEST(released > 16u * 1024u);
    BOOST_TEST(after + 16u * 1024u < before);
    BOOST_TEST(pin[0] == static_cast<char>(32 * 1024 - 1));
}

BOOST_AUTO_TEST_SUITE_END()
