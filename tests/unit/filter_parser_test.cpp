// SPDX-License-Identifier: AGPL-3.0-or-later
// RFC 7644 §3.4.2.2 filters: a table of valid filters and the tree each must give, and a table of
// invalid ones that must each fail with a position (400 invalidFilter at the HTTP layer).
#include <boost/test/unit_test.hpp>

#include "scim/filter_parser.hpp"

using namespace idgate;

BOOST_AUTO_TEST_SUITE(filter_parser)

BOOST_AUTO_TEST_CASE(valid_filters_parse_to_the_expected_tree) {
    const std::pair<const char*, const char*> cases[] = {
        // The examples of RFC 7644 §3.4.2.2.
        {R"(userName eq "bjensen")", R"((eq userName "bjensen"))"},
        {R"(name.familyName co "O'Malley")", R"((co name.familyName "O'Malley"))"},
        {R"(userName sw "J")", R"((sw userName "J"))"},
        {R"(urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J")",
         R"((sw urn:ietf:params:scim:schemas:core:2.0:User:userName "J"))"},
        {"title pr", "(pr title)"},
        {R"(meta.lastModified gt "2011-05-13T04:42:34Z")", R"((gt meta.lastModified "2011-05-13T04:42:34Z"))"},
        {R"(title pr and userType eq "Employee")", R"((and (pr title) (eq userType "Employee")))"},
        {R"(title pr or userType eq "Intern")", R"((or (pr title) (eq userType "Intern")))"},
        {R"(schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")",
         R"((eq schemas "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))"},
        {R"(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))",
         R"((and (eq userType "Employee") (or (co emails "example.com") (co emails.value "example.org"))))"},
        {R"(userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org"))",
         R"((and (ne userType "Employee") (not (or (co emails "example.com") (co emails.value "example.org")))))"},
        {R"(userType eq "Employee" and emails[type eq "work" and value co "@example.com"])",
         R"((and (eq userType "Employee") (emails[] (and (eq type "work") (co value "@example.com")))))"},
        {R"(emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"])",
         R"((or (emails[] (and (eq type "work") (co value "@example.com"))) (ims[] (and (eq type "xmpp") (co value "@foo.com")))))"},
        // INTEROP E2: Entra ID's sub-attribute after a value filter means the same as inside it.
        {R"(emails[type eq "work"].value eq "bob@contoso.com")",
         R"((emails[] (and (eq type "work") (eq value "bob@contoso.com"))))"},
        // Precedence: and binds tighter than or.
        {"a pr or b pr and c pr", "(or (pr a) (and (pr b) (pr c)))"},
        {"(a pr or b pr) and c pr", "(and (or (pr a) (pr b)) (pr c))"},
        // Case-insensitive operators and keywords; literals.
        {R"(userName EQ "x" AND active Eq TRUE)", R"((and (eq userName "x") (eq active true)))"},
        {"active eq false", "(eq active false)"},
        {"manager eq null", "(eq manager null)"},
        {"age ge 21", "(ge age 21)"},
        {"score lt -1.5e3", "(lt score -1.5e3)"},
        {R"(displayName eq "say \"hi\" \u00e9")", "(eq displayName \"say \"hi\" \xC3\xA9\")"},
        {R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42")",
         R"((eq urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber "42"))"},
        {R"(members[value eq "2819c223-7f76-453a-919d-413861904646"])",
         R"((members[] (eq value "2819c223-7f76-453a-919d-413861904646")))"},
        {"  userName pr  ", "(pr userName)"},
        {"not (a pr)", "(not (pr a))"},
        {"notes pr", "(pr notes)"},
    };
    for (const auto& [text, expected] : cases) {
        const auto r = scim::parse_filter(text);
        BOOST_TEST_REQUIRE(static_cast<bool>(r), text << " -> " << r.error.describe());
        BOOST_TEST(schema::to_sexpr(*r.filter) == expected, text);
    }
}

BOOST_AUTO_TEST_CASE(invalid_filters_fail_with_a_position) {
    const std::pair<const char*, std::size_t> cases[] = {
        {"", 0},
        {"   ", 0},
        {"userName", 8},
        {"userName eq", 11},
        {"userName eq ", 12},
        {R"(userName xx "a")", 9},
        {"userName eq bjensen", 12},       // unquoted string
        {R"(userName eq "unterminated)", 12},
        {R"(userName eq "a" and)", 19},
        {R"(userName eq "a" or )", 19},
        {R"(userName eq "a" xor b pr)", 16},
        {R"((userName eq "a")", 0},
        {R"(userName eq "a"))", 15},
        {"not userName pr", 4},
        {R"(emails[type eq "work")", 21},
        {R"(emails[type eq "work"]. eq "x")", 23},   // a sub-attribute name must follow the '.'
        {R"(emails[type eq "work"].value)", 28},     // and then an operator
        {R"(emails[type[value eq "a"] eq "b"])", 11},
        {R"(emails.value[type eq "a"])", 0},
        {R"(1userName eq "a")", 0},
        {R"(user%Name eq "a")", 0},
        {R"(userName eq "a" "b")", 16},
        {"age eq 01", 7},
        {"age eq 1.", 7},
        {R"(a eq "\q")", 6},
        {"a eq \"\x01\"", 6},
        {"a pr and", 8},
        {"and", 3},
        {"()", 1},
        {"a pr or or b pr", 11},
    };
    for (const auto& [text, position] : cases) {
        const auto r = scim::parse_filter(text);
        BOOST_TEST(!r, "accepted: " << text);
        if (!r) BOOST_TEST(r.error.position == position, text << " -> " << r.error.describe());
        BOOST_TEST(!r.error.message.empty(), text);
    }
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_not_a_stack_overflow) {
    std::string deep(10000, '(');
    deep += "a pr";
    deep += std::string(10000, ')');
    const auto r = scim::parse_filter(deep);
    BOOST_TEST(!r);
    BOOST_TEST(r.error.message.find("deeper than") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(patch_paths_with_value_filters_and_sub_attributes) {
    auto p = scim::parse_patch_path(R"(emails[type eq "work"].value)");
    BOOST_TEST_REQUIRE(static_cast<bool>(p), p.error.describe());
    BOOST_TEST(p.path->path.attribute == "emails");
    BOOST_TEST(schema::to_sexpr(*p.path->value_filter) == R"((eq type "work"))");
    BOOST_TEST(p.path->sub_attribute_after == "value");

    p = scim::parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
    BOOST_TEST_REQUIRE(static_cast<bool>(p));
    BOOST_TEST(p.path->path.schema_urn == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    BOOST_TEST(p.path->path.attribute == "manager");
    BOOST_TEST(p.path->path.sub_attribute == "value");

    p = scim::parse_patch_path(R"(members[value eq "2819c223"])");
    BOOST_TEST_REQUIRE(static_cast<bool>(p));
    BOOST_TEST(p.path->sub_attribute_after.empty());

    for (const char* bad : {"", "emails[", "emails[type eq \"work\"]x", "name..givenName", "emails[type eq \"w\"].",
                            "a b"})
        BOOST_TEST(!scim::parse_patch_path(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
