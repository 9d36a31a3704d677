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

namespace {
std::string key_of(char fill) { return std::string(secret_box::key_bytes, fill); }
}  // namespace

BOOST_AUTO_TEST_CASE(a_secret_box_opens_what_it_sealed_for_the_same_context_only) {
    const secret_box box({key_of('a')});
    const std::string raw("\x00\x01totp key bytes\xff", 18);
    const auto sealed = box.seal(raw, "user-1");
    BOOST_TEST(secret_box::is_sealed(sealed));
    BOOST_TEST(sealed.rfind("v1." + box.current_key_id() + ".", 0) == 0u);
    BOOST_TEST(sealed.find("totp") == std::string::npos);
    const auto opened = box.open(sealed, "user-1");
    BOOST_TEST_REQUIRE(opened.plaintext.has_value());
    BOOST_TEST(*opened.plaintext == raw);
    BOOST_TEST(opened.current_key);
    // A fresh nonce each time: the same secret never seals to the same text.
    BOOST_TEST(box.seal(raw, "user-1") != sealed);
    // Copied onto another user's row, it does not open there.
    const auto elsewhere = box.open(sealed, "user-2");
    BOOST_TEST(!elsewhere.plaintext.has_value());
    BOOST_TEST((elsewhere.error == secret_box::open_error::invalid));
    BOOST_TEST(*box.open(box.seal("", "c"), "c").plaintext == "");
}

BOOST_AUTO_TEST_CASE(a_changed_or_truncated_sealed_value_does_not_open) {
    const secret_box box({key_of('a')});
    const auto sealed = box.seal("0123456789abcdef0123", "user-1");
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        auto changed = sealed;
        changed[i] = changed[i] == 'A' ? 'B' : 'A';
        BOOST_TEST(!box.open(changed, "user-1").plaintext.has_value(), "position " << i);
    }
    BOOST_TEST(!box.open(sealed.substr(0, sealed.size() - 4), "user-1").plaintext.has_value());
    BOOST_TEST(!box.open(sealed.substr(0, 14), "user-1").plaintext.has_value());
    // What was stored before encryption (base64url) is told apart, not misread.
    BOOST_TEST((box.open("c2VjcmV0IGtleQ", "user-1").error == secret_box::open_error::not_sealed));
    BOOST_TEST(!secret_box::is_sealed("c2VjcmV0IGtleQ"));
}

BOOST_AUTO_TEST_CASE(a_key_ring_seals_with_its_first_key_and_opens_with_any) {
    const secret_box old_ring({key_of('o')});
    const secret_box rotated({key_of('n'), key_of('o')});
    const secret_box new_only({key_of('n')});
    const auto under_old = old_ring.seal("secret", "u");
    const auto opened = rotated.open(under_old, "u");
    BOOST_TEST_REQUIRE(opened.plaintext.has_value());
    BOOST_TEST(*opened.plaintext == "secret");
    BOOST_TEST(!opened.current_key);  // to be sealed again under the first key
    BOOST_TEST(rotated.open(rotated.seal("secret", "u"), "u").current_key);
    BOOST_TEST(rotated.current_key_id() == new_only.current_key_id());
    BOOST_TEST(rotated.current_key_id() != old_ring.current_key_id());
    BOOST_TEST((new_only.open(under_old, "u").error == secret_box::open_error::unknown_key));
    BOOST_CHECK_THROW(secret_box({}), std::invalid_argument);
    BOOST_CHECK_THROW(secret_box({std::string(16, 'k')}), std::invalid_argument);  // AES-128-sized
    BOOST_CHECK_THROW(secret_box({key_of('k'), key_of('k')}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(keys_are_read_as_base64_of_32_bytes) {
    const auto text = secret_box::new_key_text();
    BOOST_TEST(text.size() == 44u);  // as `openssl rand -base64 32` prints
    const auto raw = secret_box::parse_key(text);
    BOOST_TEST_REQUIRE(raw.has_value());
    BOOST_TEST(raw->size() == 32u);
    BOOST_TEST(secret_box::new_key_text() != text);
    std::string expected;
    for (int i = 0; i < 32; ++i) expected.push_back(static_cast<char>(i));
    BOOST_TEST(*secret_box::parse_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") == expected);
    BOOST_TEST(*secret_box::parse_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8") == expected);
    BOOST_TEST(*secret_box::parse_key("+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8=") ==
               *secret_box::parse_key("-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8"));
    BOOST_TEST(!secret_box::parse_key("c2hvcnQ=").has_value());       // 5 bytes
    BOOST_TEST(!secret_box::parse_key("not base64 at all!").has_value());
    BOOST_TEST(!secret_box::parse_key("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
