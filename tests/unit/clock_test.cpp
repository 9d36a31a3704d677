// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/test/unit_test.hpp>

#include "core/clock.hpp"

using namespace idgate::core;
using std::chrono::hours, std::chrono::minutes, std::chrono::seconds, std::chrono::milliseconds, std::chrono::sys_days;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(clock_format)

BOOST_AUTO_TEST_CASE(formats_fixed_width_utc_with_milliseconds) {
    const idgate::core::time_point t{sys_days{std::chrono::year{2026} / 11 / 22}.time_since_epoch() + hours{8} + minutes{5} + seconds{9} +
                       milliseconds{7}};
    BOOST_TEST(format_timestamp(t) == "2026-11-22T08:05:09.007Z");
}

BOOST_AUTO_TEST_CASE(formats_every_field_at_its_bounds) {
    const auto at = [](int y, unsigned mo, unsigned d, milliseconds since_midnight) {
        return idgate::core::time_point{(sys_days{std::chrono::year{y} / mo / d}).time_since_epoch() + since_midnight};
    };
    BOOST_TEST(format_timestamp(idgate::core::time_point{}) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(format_timestamp(at(1969, 12, 31, hours{23} + minutes{59} + seconds{59} + milliseconds{999})) ==
               "1969-12-31T23:59:59.999Z");
    BOOST_TEST(format_timestamp(at(2000, 2, 29, hours{12} + milliseconds{10})) == "2000-02-29T12:00:00.010Z");
    BOOST_TEST(format_timestamp(at(9999, 12, 31, hours{23} + minutes{59} + seconds{59} + milliseconds{999})) ==
               "9999-12-31T23:59:59.999Z");
    BOOST_TEST(format_timestamp(at(1, 1, 1, milliseconds{100})) == "0001-01-01T00:00:00.100Z");
    // Outside four-digit years the year widens rather than wrapping.
    BOOST_TEST(format_timestamp(at(10000, 1, 1, seconds{1})) == "10000-01-01T00:00:01.000Z");
}

BOOST_AUTO_TEST_CASE(parse_round_trips_and_accepts_whole_seconds) {
    const auto t = idgate::core::system_clock{}.now();
    BOOST_TEST((parse_timestamp(format_timestamp(t)) == t));
    const auto whole = parse_timestamp("2020-02-29T23:59:59Z");
    BOOST_REQUIRE(whole.has_value());
    BOOST_TEST(format_timestamp(*whole) == "2020-02-29T23:59:59.000Z");
}

BOOST_AUTO_TEST_CASE(parse_accepts_any_fraction_and_utc_offsets) {
    // xsd:dateTime (RFC 7643 §2.3.5): fractions of any length (milliseconds kept), and offsets, as UTC.
    const std::pair<const char*, const char*> cases[] = {
        {"2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.500Z"},
        {"2020-01-01T00:00:00.1234567Z", "2020-01-01T00:00:00.123Z"},
        {"2020-01-01T09:30:00+01:00", "2020-01-01T08:30:00.000Z"},
        {"2020-01-01T00:15:00.250-05:30", "2020-01-01T05:45:00.250Z"},
        {"2020-03-01T00:30:00+01:00", "2020-02-29T23:30:00.000Z"},
        {"2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00.000Z"},
    };
    for (const auto& [text, utc] : cases) {
        const auto t = parse_timestamp(text);
        BOOST_TEST_REQUIRE(t.has_value(), text);
        BOOST_TEST(format_timestamp(*t) == utc, text);
    }
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed_text) {
    for (const char* bad : {"", "2020-02-30T00:00:00Z", "2020-01-01 00:00:00Z", "2020-01-01T00:00:00",
                            "2020-01-01T24:00:00Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00.0123456789Z",
                            "2020-01-01T00:00:00.000Zjunk", "2020-01-01T00:00:00+0100", "2020-01-01T00:00:00+15:00",
                            "2020-01-01T00:00:00+01:60", "2020-01-01T00:00:00+01:00Z"})
        BOOST_TEST(!parse_timestamp(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(text_order_is_time_order) {
    const auto a = *parse_timestamp("2026-01-02T03:04:05.006Z");
    const auto b = a + milliseconds{1};
    BOOST_TEST(format_timestamp(a) < format_timestamp(b));
}

BOOST_AUTO_TEST_SUITE_END()
