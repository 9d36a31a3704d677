// SPDX-License-Identifier: AGPL-3.0-or-later
// Local user management's pure parts: password policy and hashing, TOTP, the authorization table,
// organisation settings.
#include <boost/test/unit_test.hpp>

#include "accounts/authorization.hpp"
#include "accounts/password.hpp"
#include "accounts/qr.hpp"
#include "accounts/totp.hpp"

using namespace idgate;
using accounts::action;
using schema::system_role;

BOOST_AUTO_TEST_SUITE(accounts_passwords)

BOOST_AUTO_TEST_CASE(the_default_policy_lists_every_rule_that_fails) {
    const schema::password_policy policy;
    BOOST_TEST(accounts::password_problems(policy, "Str0ng-enough").empty());
    const auto problems = accounts::password_problems(policy, "abc");
    BOOST_TEST_REQUIRE(problems.size() == 4u);  // length, upper, digit, special
    BOOST_TEST(problems[0] == "at least 8 characters");
    BOOST_TEST(problems[1] == "at least one upper-case letter (A-Z)");
    BOOST_TEST(problems[2] == "at least one digit (0-9)");
    BOOST_TEST(problems[3] == "at least one special character from !@#$%^&*_-");
    BOOST_TEST(accounts::password_problems(policy, std::string(61, 'a') + "A1!").size() == 1u);  // too long
    BOOST_TEST(accounts::password_problems(policy, "ALLUPPER1!").size() == 1u);  // no lower-case
}

BOOST_AUTO_TEST_CASE(length_counts_characters_not_bytes) {
    schema::password_policy policy;
    policy.require_upper = policy.require_lower = policy.require_digit = policy.require_special = false;
    // Four two-byte letters are four characters, not eight.
    BOOST_TEST(accounts::password_problems(policy, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9").size() == 1u);
}

BOOST_AUTO_TEST_CASE(generated_passwords_meet_the_policy) {
    schema::password_policy policy;
    for (int i = 0; i < 200; ++i) {
        const auto p = accounts::generate_password(policy);
        BOOST_TEST(p.size() == 16u);
        BOOST_TEST(accounts::password_problems(policy, p).empty(), p);
    }
    policy.min_length = 30;
    policy.max_length = 40;
    policy.special_characters = "~";
    const auto long_one = accounts::generate_password(policy);
    BOOST_TEST(long_one.size() == 30u);
    BOOST_TEST(long_one.find('~') != std::string::npos);
    BOOST_TEST(accounts::generate_password(policy) != long_one);
}

BOOST_AUTO_TEST_CASE(argon2id_hashes_verify_and_are_salted) {
    const auto a = accounts::hash_password("Correct-Horse1");
    const auto b = accounts::hash_password("Correct-Horse1");
    BOOST_TEST(a.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0u);
    BOOST_TEST(a != b);  // a fresh salt each time
    BOOST_TEST(accounts::verify_password(a, "Correct-Horse1"));
    BOOST_TEST(!accounts::verify_password(a, "correct-horse1"));
    BOOST_TEST(!accounts::verify_password("not a hash", "Correct-Horse1"));
    BOOST_TEST(!accounts::verify_password("", ""));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accounts_totp)

BOOST_AUTO_TEST_CASE(rfc_6238_appendix_b_vectors_truncated_to_six_digits) {
    // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890"; the 8-digit codes' last six digits.
    const std::string key = "12345678901234567890";
    const auto at = [](long long seconds) { return core::time_point(std::chrono::milliseconds(seconds * 1000)); };
    BOOST_TEST(accounts::totp::code_at(key, accounts::totp::step_of(at(59))) == "287082");
    BOOST_TEST(accounts::totp::code_at(key, accounts::totp::step_of(at(1111111109))) == "081804");
    BOOST_TEST(accounts::totp::code_at(key, accounts::totp::step_of(at(1234567890))) == "005924");
    BOOST_TEST(accounts::totp::code_at(key, accounts::totp::step_of(at(2000000000))) == "279037");
}

BOOST_AUTO_TEST_CASE(one_step_of_drift_is_accepted_two_are_not) {
    const std::string key = accounts::totp::new_key();
    BOOST_TEST(key.size() == 20u);
    const auto now = core::time_point(std::chrono::milliseconds(1'700'000'000'000));
    const auto step = accounts::totp::step_of(now);
    BOOST_TEST(*accounts::totp::match(key, accounts::totp::code_at(key, step), now) == step);
    BOOST_TEST(*accounts::totp::match(key, accounts::totp::code_at(key, step - 1), now) == step - 1);
    BOOST_TEST(*accounts::totp::match(key, accounts::totp::code_at(key, step + 1), now) == step + 1);
    BOOST_TEST(!accounts::totp::match(key, accounts::totp::code_at(key, step - 2), now));
    BOOST_TEST(!accounts::totp::match(key, accounts::totp::code_at(key, step + 2), now));
    BOOST_TEST(!accounts::totp::match(key, "12345", now));
}

BOOST_AUTO_TEST_CASE(base32_follows_rfc_4648_and_round_trips) {
    BOOST_TEST(accounts::totp::base32("foobar") == "MZXW6YTBOI");  // RFC 4648 §10, without padding
    std::string back;
    BOOST_TEST(accounts::totp::base32_decode("mzxw6ytboi======", back));
    BOOST_TEST(back == "foobar");
    BOOST_TEST(!accounts::totp::base32_decode("MZ1", back));
    const auto uri = accounts::totp::provisioning_uri("idgate", "acme:ann@example.com", "foobar");
    BOOST_TEST(uri == "otpauth://totp/idgate:acme%3Aann@example.com?secret=MZXW6YTBOI&issuer=idgate&algorithm=SHA1"
                      "&digits=6&period=30");
}

BOOST_AUTO_TEST_CASE(the_enrolment_qr_code_is_a_well_formed_symbol) {
    const auto uri = accounts::totp::provisioning_uri("idgate", "acme:ann@example.com", std::string(20, 'k'));
    const auto m = accounts::qr::modules(uri);
    // ISO/IEC 18004: 17 + 4 x version modules a side, and a finder pattern (7x7 ring around a 3x3
    // block) in three corners.
    BOOST_TEST_REQUIRE(m.size() >= 21u);
    BOOST_TEST((m.size() - 17) % 4 == 0u);
    const auto finder_at = [&](std::size_t top, std::size_t left) {
        for (std::size_t y = 0; y < 7; ++y)
            for (std::size_t x = 0; x < 7; ++x) {
                const bool ring = y == 0 || y == 6 || x == 0 || x == 6;
                const bool core = y >= 2 && y <= 4 && x >= 2 && x <= 4;
                if (m[top + y][left + x] != (ring || core)) return false;
            }
        return true;
    };
    BOOST_TEST(finder_at(0, 0));
    BOOST_TEST(finder_at(0, m.size() - 7));
    BOOST_TEST(finder_at(m.size() - 7, 0));
    BOOST_TEST(!finder_at(m.size() - 7, m.size() - 7));  // the fourth corner has none
    const auto svg = accounts::qr::svg(uri);
    BOOST_TEST(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(m.size() + 8), 0) == 0u);
    BOOST_TEST(svg.find("M4 4h1v1h-1z") != std::string::npos);  // the top-left module, after the quiet zone
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accounts_authorization)

schema::account person(const std::string& id, system_role role) {
    schema::account a;
    a.profile.id = id;
    a.role = role;
    return a;
}

BOOST_AUTO_TEST_CASE(the_role_table) {
    const auto owner = person("o", system_role::super_admin), admin = person("a", system_role::admin),
               admin2 = person("a2", system_role::admin), manager = person("m", system_role::manager),
               member = person("u", system_role::member), guest = person("g", system_role::guest);
    using accounts::authorize;
    // Admins manage users; managers only look; members and guests see themselves.
    BOOST_TEST(authorize(admin, action::invite_user, nullptr, system_role::member).allowed);
    BOOST_TEST(!authorize(manager, action::invite_user, nullptr, system_role::member).allowed);
    BOOST_TEST(authorize(manager, action::view_user, &member).allowed);
    BOOST_TEST(!authorize(manager, action::edit_user, &member).allowed);
    BOOST_TEST(!authorize(manager, action::disable_user, &member).allowed);
    BOOST_TEST(!authorize(member, action::view_user, &manager).allowed);
    BOOST_TEST(authorize(member, action::view_user, &member).allowed);
    BOOST_TEST(authorize(member, action::edit_own_profile, &member).allowed);
    BOOST_TEST(!authorize(guest, action::edit_own_profile, &guest).allowed);
    // Only a super_admin grants super_admin or touches a super_admin's account.
    BOOST_TEST(!authorize(admin, action::invite_user, nullptr, system_role::super_admin).allowed);
    BOOST_TEST(authorize(owner, action::invite_user, nullptr, system_role::super_admin).allowed);
    BOOST_TEST(!authorize(admin, action::change_role, &member, system_role::super_admin).allowed);
    BOOST_TEST(authorize(admin, action::change_role, &member, system_role::admin).allowed);
    BOOST_TEST(!authorize(admin, action::disable_user, &owner).allowed);
    BOOST_TEST(!authorize(admin, action::reset_password, &owner).allowed);
    BOOST_TEST(authorize(admin, action::disable_user, &admin2).allowed);
    BOOST_TEST(authorize(owner, action::disable_user, &admin).allowed);
    // Nobody disables, deletes or re-roles themselves.
    BOOST_TEST(!authorize(admin, action::disable_user, &admin).allowed);
    BOOST_TEST(!authorize(owner, action::delete_user, &owner).allowed);
    BOOST_TEST(!authorize(admin, action::change_role, &admin, system_role::member).allowed);
    // Settings and audit are for admins.
    BOOST_TEST(authorize(admin, action::view_audit).allowed);
    BOOST_TEST(!authorize(manager, action::view_audit).allowed);
    BOOST_TEST(!authorize(member, action::manage_settings).allowed);
    BOOST_TEST(!authorize(manager, action::invite_user).reason.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accounts_settings)

BOOST_AUTO_TEST_CASE(settings_round_trip_and_reject_unknown_keys_and_bad_values) {
    schema::organization_settings s;
    s.deactivate_only = true;
    s.passwords.min_length = 12;
    std::string error;
    const auto back = schema::parse_organization_settings(schema::to_json(s), error);
    BOOST_TEST_REQUIRE(back.has_value(), error);
    BOOST_TEST(back->deactivate_only);
    BOOST_TEST(back->passwords.min_length == 12);
    BOOST_TEST(schema::parse_organization_settings("{}", error)->invitation_ttl_hours == 168);
    BOOST_TEST(!schema::parse_organization_settings(R"({"deletion":"never"})", error));
    BOOST_TEST(error.find("deactivate_only") != std::string::npos);
    BOOST_TEST(!schema::parse_organization_settings(R"({"colour":"red"})", error));
    BOOST_TEST(error.find("unknown setting 'colour'") != std::string::npos);
    BOOST_TEST(!schema::parse_organization_settings(R"({"password_policy":{"min_length":"8"}})", error));
    BOOST_TEST(!schema::parse_organization_settings(R"({"password_policy":{"min_length":20,"max_length":10}})", error));
}

BOOST_AUTO_TEST_SUITE_END()
