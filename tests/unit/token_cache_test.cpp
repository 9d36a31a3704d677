// SPDX-License-Identifier: AGPL-3.0-or-later
// The bearer token cache: kept for its time to live only, forgotten on revocation, bounded.
#include <boost/test/unit_test.hpp>

#include "../support/manual_clock.hpp"
#include "token_cache.hpp"

using namespace std::chrono_literals;
using idgate::gateway::token_cache;

namespace {
idgate::schema::api_token token(std::string id) {
    idgate::schema::api_token t;
    t.id = std::move(id);
    t.organization_id = "org";
    return t;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(token_cache_suite)

BOOST_AUTO_TEST_CASE(a_token_is_kept_for_its_time_to_live_only) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 5s);
    BOOST_TEST(!cache.find("hash-a").has_value());
    cache.remember("hash-a", token("a"), cache.revocations());
    BOOST_TEST(cache.find("hash-a")->id == "a");
    clock.advance(4999ms);
    BOOST_TEST(cache.find("hash-a").has_value());
    clock.advance(1ms);
    BOOST_TEST(!cache.find("hash-a").has_value(), "after 5 s the database is asked again");
}

BOOST_AUTO_TEST_CASE(revocation_here_forgets_at_once) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 5s);
    cache.remember("hash-a", token("a"), cache.revocations());
    cache.remember("hash-b", token("b"), cache.revocations());
    cache.forget("a");
    BOOST_TEST(!cache.find("hash-a").has_value());
    BOOST_TEST(cache.find("hash-b").has_value());
}

BOOST_AUTO_TEST_CASE(a_lookup_that_raced_with_a_revocation_is_not_kept) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 5s);
    const auto before_lookup = cache.revocations();  // a request starts asking the database...
    cache.forget("a");                                // ...while the token is revoked here
    cache.remember("hash-a", token("a"), before_lookup);
    BOOST_TEST(!cache.find("hash-a").has_value(), "the answer may predate the revocation");
    cache.remember("hash-a", token("a"), cache.revocations());
    BOOST_TEST(cache.find("hash-a").has_value());
}

BOOST_AUTO_TEST_CASE(zero_seconds_turns_it_off) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 0s);
    cache.remember("hash-a", token("a"), cache.revocations());
    BOOST_TEST(!cache.find("hash-a").has_value());
}

BOOST_AUTO_TEST_CASE(it_stays_within_its_capacity) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 5s, 3);
    for (int i = 0; i < 3; ++i) cache.remember("hash-" + std::to_string(i), token(std::to_string(i)), cache.revocations());
    clock.advance(6s);
    cache.remember("hash-new", token("new"), cache.revocations());  // full of expired entries: those go, the new one stays
    BOOST_TEST(cache.find("hash-new").has_value());
    for (int i = 0; i < 3; ++i) BOOST_TEST(!cache.find("hash-" + std::to_string(i)).has_value());
}

BOOST_AUTO_TEST_CASE(a_clock_set_back_does_not_extend_an_entry) {
    idgate::test::manual_clock clock;
    token_cache cache(clock, 5s);
    cache.remember("hash-a", token("a"), cache.revocations());
    clock.advance(-1h);
    BOOST_TEST(!cache.find("hash-a").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
