// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <set>

#include "core/crypto.hpp"

using namespace idgate::core;

BOOST_AUTO_TEST_SUITE(crypto)

BOOST_AUTO_TEST_CASE(uuid_is_version_7_unique_and_time_ordered) {
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 1000; ++i) {
        const auto id = new_uuid();
        BOOST_TEST_REQUIRE(id.size() == 36u);
        BOOST_TEST(id[8] == '-');
        BOOST_TEST(id[14] == '7');
        BOOST_TEST(std::string("89ab").find(id[19]) != std::string::npos);
        // The leading 48 bits are milliseconds: never earlier than the id before.
        BOOST_TEST(id.substr(0, 13) >= previous.substr(0, std::min<std::size_t>(13, previous.size())));
        previous = id;
        seen.insert(id);
    }
    BOOST_TEST(seen.size() == 1000u);
    // The timestamp is now's.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    const auto id = new_uuid();
    const auto stamp = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    BOOST_TEST(std::llabs(stamp - ms) < 5000);
}

BOOST_AUTO_TEST_CASE(secret_has_prefix_and_256_bits_of_base64url) {
    const auto s = new_secret("idg_adm_");
    BOOST_TEST(s.rfind("idg_adm_", 0) == 0u);
    BOOST_TEST(s.size() == 8u + 43u);
    BOOST_TEST(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 8) ==
               std::string::npos);
    BOOST_TEST(new_secret("x") != new_secret("x"));
}

BOOST_AUTO_TEST_CASE(sha256_matches_known_vectors) {
    BOOST_TEST(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(base64url_round_trips_and_rejects_other_alphabets) {
    // RFC 4648 §10 vectors, in the URL-safe alphabet without padding.
    BOOST_TEST(base64url_encode("") == "");
    BOOST_TEST(base64url_encode("f") == "Zg");
    BOOST_TEST(base64url_encode("foob") == "Zm9vYg");
    BOOST_TEST(base64url_encode("foobar") == "Zm9vYmFy");
    BOOST_TEST(base64url_encode("\xfb\xff") == "-_8");
    std::string out;
    BOOST_TEST(base64url_decode("Zm9vYmFy", out));
    BOOST_TEST(out == "foobar");
    BOOST_TEST(base64url_decode("-_8", out));
    BOOST_TEST(out == "\xfb\xff");
    BOOST_TEST(!base64url_decode("Zm9v+g==", out));
}

BOOST_AUTO_TEST_CASE(base64_uses_the_standard_alphabet_with_padding) {
    // RFC 4648 §10 vectors.
    BOOST_TEST(base64_encode("") == "");
    BOOST_TEST(base64_encode("f") == "Zg==");
    BOOST_TEST(base64_encode("fo") == "Zm8=");
    BOOST_TEST(base64_encode("foo") == "Zm9v");
    BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
    BOOST_TEST(base64_encode("\xfb\xff") == "+/8=");
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_content_and_length) {
    BOOST_TEST(constant_time_equal("abc", "abc"));
    BOOST_TEST(!constant_time_equal("abc", "abd"));
    BOOST_TEST(!constant_time_equal("abc", "abcd"));
}

BOOST_AUTO_TEST_SUITE_END()
