// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "schema/model.hpp"

using namespace idgate::schema;

BOOST_AUTO_TEST_SUITE(model)

BOOST_AUTO_TEST_CASE(case_fold_folds_ascii_only) {
    BOOST_TEST(case_fold("Alice.Smith@Example.COM") == "alice.smith@example.com");
    // Non-ASCII is left alone on purpose: both backends must agree on what is a duplicate.
    BOOST_TEST(case_fold("\xC3\x89mile") == "\xC3\x89mile");
}

BOOST_AUTO_TEST_CASE(slugs_are_dns_labels) {
    for (const char* good : {"acme", "a", "acme-corp", "a1-b2", "0"}) BOOST_TEST(is_valid_slug(good), good);
    for (const char* bad : {"", "-acme", "acme-", "Acme", "ac me", "ac_me", "ac/me"}) BOOST_TEST(!is_valid_slug(bad), bad);
    BOOST_TEST(!is_valid_slug(std::string(64, 'a')));
}

BOOST_AUTO_TEST_CASE(enums_round_trip_and_reject_unknown_names) {
    for (auto s : {user_status::pending, user_status::active, user_status::disabled})
        BOOST_TEST((parse_user_status(to_string(s)) == s));
    BOOST_TEST(!parse_user_status("Active").has_value());
    BOOST_TEST((parse_sso_mode("enforced") == sso_mode::enforced));
    BOOST_TEST(!parse_sso_mode("on").has_value());
}

BOOST_AUTO_TEST_CASE(user_change_description_lists_only_changed_fields) {
    user a;
    a.user_name = "alice";
    a.title = "Engineer";
    a.emails = {{"alice@example.com", "work", "", true}};
    user b = a;
    b.title = "Manager";
    b.active = false;
    const auto changes = boost::json::parse(describe_user_changes(a, b)).as_object();
    BOOST_TEST(changes.size() == 2u);
    BOOST_TEST(changes.at("title").at("from").as_string() == "Engineer");
    BOOST_TEST(changes.at("title").at("to").as_string() == "Manager");
    BOOST_TEST(changes.at("active").at("to").as_bool() == false);
    b.emails[0].value = "alice@corp.example";
    BOOST_TEST(boost::json::parse(describe_user_changes(a, b)).as_object().contains("emails"));
    BOOST_TEST(describe_user_changes(a, a) == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
