// SPDX-License-Identifier: AGPL-3.0-or-later
// Mapping rules as a pure function: attribute mapping, conditions (with "groups unknown" as a third
// truth value), grants and their provenance, login denial. Tables, no I/O.
#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include "mapping/explain.hpp"
#include "mapping/rules.hpp"

using namespace idgate;
using mapping::condition;
using mapping::field;
using mapping::truth;

namespace idgate::mapping {
inline std::ostream& operator<<(std::ostream& out, truth t) {
    return out << (t == truth::yes ? "yes" : t == truth::no ? "no" : "unknown");
}
}  // namespace idgate::mapping

namespace {

condition group_is(std::vector<std::string> names) {
    condition c;
    c.type = condition::kind::group_is;
    c.values = std::move(names);
    return c;
}
condition group_prefix(std::string prefix) {
    condition c;
    c.type = condition::kind::group_prefix;
    c.values = {std::move(prefix)};
    return c;
}
condition group_matches(const std::string& pattern) {
    condition c;
    c.type = condition::kind::group_matches;
    c.pattern_text = pattern;
    c.pattern = std::regex(pattern);
    return c;
}
condition attribute(condition::kind k, std::string name, std::vector<std::string> values = {}) {
    condition c;
    c.type = k;
    c.attribute = std::move(name);
    c.values = std::move(values);
    if (k == condition::kind::attribute_matches) {
        c.pattern_text = c.values.front();
        c.pattern = std::regex(c.pattern_text);
    }
    return c;
}
condition combine(condition::kind k, std::vector<condition> children) {
    condition c;
    c.type = k;
    c.children = std::move(children);
    return c;
}
condition yes() { return {}; }

mapping::identity person(std::optional<std::vector<std::string>> groups,
                         std::map<std::string, std::vector<std::string>> attributes = {}) {
    return {std::move(attributes), std::move(groups)};
}

mapping::rule grant_role(std::string name, condition when, schema::system_role role, int priority = 0) {
    mapping::rule r;
    r.name = std::move(name);
    r.when = std::move(when);
    r.grants.system_role = role;
    r.grants.priority = priority;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mapping_rules)

BOOST_AUTO_TEST_CASE(conditions_and_their_three_truth_values) {
    using k = condition::kind;
    const auto dept = std::map<std::string, std::vector<std::string>>{{"department", {"Security"}},
                                                                     {"userType", {"Employee"}}};
    const auto known = person(std::vector<std::string>{"Okta Admins", "IR-Responders"}, dept);
    const auto overage = person(std::nullopt, dept);  // Entra sent no groups claim
    struct row {
        const char* what;
        condition c;
        truth with_groups, without_groups;
    };
    const std::vector<row> table{
        {"group, case-insensitive", group_is({"okta admins"}), truth::yes, truth::unknown},
        {"group absent", group_is({"Finance"}), truth::no, truth::unknown},
        {"group prefix", group_prefix("ir-"), truth::yes, truth::unknown},
        {"group regex, whole name", group_matches("IR-.*"), truth::yes, truth::unknown},
        {"group regex, partial is no match", group_matches("IR"), truth::no, truth::unknown},
        {"attribute equals", attribute(k::attribute_equals, "department", {"Security"}), truth::yes, truth::yes},
        {"attribute equals is exact", attribute(k::attribute_equals, "department", {"security"}), truth::no, truth::no},
        {"attribute in", attribute(k::attribute_in, "userType", {"Contractor", "Employee"}), truth::yes, truth::yes},
        {"attribute matches", attribute(k::attribute_matches, "department", {"Sec.*"}), truth::yes, truth::yes},
        {"attribute missing", attribute(k::attribute_equals, "title", {"CTO"}), truth::no, truth::no},
        {"attribute present", attribute(k::attribute_present, "department"), truth::yes, truth::yes},
        {"not", combine(k::negate, {group_is({"Finance"})}), truth::yes, truth::unknown},
        {"all: a no decides", combine(k::all, {group_is({"Okta Admins"}), attribute(k::attribute_equals, "department", {"HR"})}),
         truth::no, truth::no},
        {"all: unknown stays unknown", combine(k::all, {group_is({"Okta Admins"}), yes()}), truth::yes, truth::unknown},
        {"any: a yes decides", combine(k::any, {group_is({"Finance"}), attribute(k::attribute_present, "department")}),
         truth::yes, truth::yes},
        {"any: unknown stays unknown", combine(k::any, {group_is({"Finance"}), attribute(k::attribute_present, "title")}),
         truth::no, truth::unknown},
        {"always", yes(), truth::yes, truth::yes},
    };
    for (const auto& r : table) {
        BOOST_TEST(mapping::test(r.c, known) == r.with_groups, r.what);
        BOOST_TEST(mapping::test(r.c, overage) == r.without_groups, r.what << " (groups unknown)");
    }
}

BOOST_AUTO_TEST_CASE(attributes_map_with_transforms_defaults_and_required_fields) {
    mapping::rule_set rules;
    const auto map = [&](field f, std::vector<std::string> sources, std::vector<mapping::transform> t = {},
                         std::optional<std::string> fallback = std::nullopt, bool required = false) {
        rules.attributes.push_back({f, std::move(sources), std::move(t), std::move(fallback), required});
    };
    using tk = mapping::transform::kind;
    // Entra sends claim URIs; Okta plain names: the first one present wins.
    map(field::email, {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "email"},
        {{tk::trim, "", {}}, {tk::lower, "", {}}}, std::nullopt, true);
    map(field::user_name, {"login"}, {}, std::nullopt, true);
    map(field::department, {"costCenter"}, {{tk::capture, "^(\\w+)-", std::regex("^(\\w+)-")}});
    map(field::title, {"title"}, {}, std::string("Staff"));
    map(field::display_name, {"names"}, {{tk::split, ";", {}}, {tk::join, " / ", {}}});
    map(field::locale, {"locale"}, {}, std::nullopt, true);

    const auto out = mapping::evaluate(
        rules, person(std::vector<std::string>{},
                      {{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", {"  Ann@Example.COM "}},
                       {"email", {"other@example.com"}},
                       {"login", {"ann"}},
                       {"costCenter", {"SEC-042"}},
                       {"names", {"Ann; Annie ;;"}}}));
    BOOST_TEST(out.fields.at(field::email) == "ann@example.com");
    BOOST_TEST(out.fields.at(field::user_name) == "ann");
    BOOST_TEST(out.fields.at(field::department) == "SEC");
    BOOST_TEST(out.fields.at(field::title) == "Staff");  // the default
    BOOST_TEST(out.fields.at(field::display_name) == "Ann / Annie");
    // locale is required and absent: rejected, naming it.
    BOOST_TEST_REQUIRE(out.missing_required.size() == 1u);
    BOOST_TEST(mapping::to_string(out.missing_required.front()) == "locale");
    BOOST_TEST(!out.accepted());
}

BOOST_AUTO_TEST_CASE(system_roles_compete_by_priority_and_defaults_fill_in) {
    mapping::rule_set rules;
    rules.defaults.system_role = schema::system_role::member;
    rules.defaults.permissions = {"read_reports"};
    rules.rules = {grant_role("admins", group_is({"Admins"}), schema::system_role::admin, 10),
                   grant_role("managers", group_is({"Managers"}), schema::system_role::manager, 20),
                   grant_role("also-admins", group_is({"Managers"}), schema::system_role::admin, 20)};
    struct row {
        std::vector<std::string> groups;
        schema::system_role role;
        const char* from;
    };
    const std::vector<row> table{
        {{}, schema::system_role::member, "defaults"},
        {{"Admins"}, schema::system_role::admin, "admins"},
        {{"Admins", "Managers"}, schema::system_role::manager, "managers"},  // higher priority; the first of equals
    };
    for (const auto& r : table) {
        const auto out = mapping::evaluate(rules, person(r.groups));
        BOOST_TEST_REQUIRE(out.system_role.has_value());
        BOOST_TEST((*out.system_role == r.role));
        BOOST_TEST(out.system_role_from.rule == r.from);
        BOOST_TEST_REQUIRE(out.permissions.size() == 1u);  // the defaults' permissions always apply
        BOOST_TEST(out.permissions[0].second.rule == "defaults");
    }
}

BOOST_AUTO_TEST_CASE(scoped_roles_keep_the_most_privileged_and_permissions_add_up) {
    mapping::rule_set rules;
    mapping::rule viewers;
    viewers.name = "everyone views marketing";
    viewers.grants.scoped = {{schema::scope_kind::workspace, "Marketing", schema::scoped_role_name::viewer}};
    mapping::rule editors;
    editors.name = "marketing team edits";
    editors.when = group_prefix("MKT-");
    editors.grants.scoped = {{schema::scope_kind::workspace, "marketing", schema::scoped_role_name::editor},
                             {schema::scope_kind::project, "Launch", schema::scoped_role_name::owner}};
    editors.grants.permissions = {"publish"};
    mapping::rule responders;
    responders.name = "responders";
    responders.when = group_is({"IR"});
    responders.grants.permissions = {"active_response", "publish"};
    rules.rules = {viewers, editors, responders};

    const auto out = mapping::evaluate(rules, person(std::vector<std::string>{"MKT-EU", "IR"}));
    BOOST_TEST_REQUIRE(out.scoped.size() == 2u);
    BOOST_TEST(out.scoped[0].first.scope == "marketing");
    BOOST_TEST((out.scoped[0].first.role == schema::scoped_role_name::editor));
    BOOST_TEST(out.scoped[0].second.rule == "marketing team edits");
    BOOST_TEST((out.scoped[1].first.kind == schema::scope_kind::project));
    BOOST_TEST_REQUIRE(out.permissions.size() == 2u);
    BOOST_TEST(out.permissions[0].first == "publish");
    BOOST_TEST(out.permissions[0].second.rule == "marketing team edits");  // the first grant is the one named
    BOOST_TEST(out.permissions[1].first == "active_response");
    BOOST_TEST(!out.system_role.has_value());  // no rule and no default: the caller decides
}

BOOST_AUTO_TEST_CASE(unknown_groups_never_strip_and_never_let_a_denied_person_in) {
    mapping::rule_set rules;
    rules.defaults.system_role = schema::system_role::member;
    rules.rules = {grant_role("admins", group_is({"Admins"}), schema::system_role::admin, 10)};
    mapping::rule contractors;
    contractors.name = "no contractors";
    contractors.when = group_is({"Contractors"});
    contractors.deny_login = true;
    rules.rules.push_back(contractors);

    // Groups unknown: the admin rule is undetermined (reconciliation keeps what it granted before), and
    // the deny rule fails closed with its own reason.
    const auto overage = mapping::evaluate(rules, person(std::nullopt));
    BOOST_TEST(overage.undetermined_rules == (std::vector<std::string>{"admins", "no contractors"}));
    BOOST_TEST(overage.denied);
    BOOST_TEST(overage.denied_unknown);
    BOOST_TEST(overage.denied_by == "no contractors");
    BOOST_TEST((*overage.system_role == schema::system_role::member));  // the default, not a demotion decision

    const auto contractor = mapping::evaluate(rules, person(std::vector<std::string>{"Contractors", "Admins"}));
    BOOST_TEST(contractor.denied);
    BOOST_TEST(!contractor.denied_unknown);
    BOOST_TEST(!contractor.accepted());

    const auto admin = mapping::evaluate(rules, person(std::vector<std::string>{"admins"}));
    BOOST_TEST(admin.accepted());
    BOOST_TEST(admin.undetermined_rules.empty());
    BOOST_TEST((*admin.system_role == schema::system_role::admin));
}

BOOST_AUTO_TEST_CASE(hostile_values_are_not_run_through_a_regex_unbounded) {
    const auto c = attribute(condition::kind::attribute_matches, "department", {"(a+)+b"});
    // Catastrophic backtracking bait, far beyond the bound: refused, not matched for minutes.
    BOOST_TEST(mapping::test(c, person(std::nullopt, {{"department", {std::string(5000, 'a')}}})) == truth::no);
    BOOST_TEST(mapping::test(c, person(std::nullopt, {{"department", {"aab"}}})) == truth::yes);
}

BOOST_AUTO_TEST_CASE(samples_of_what_idps_send_become_identities) {
    const auto scim = boost::json::parse(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ann", "active": true, "name": {"givenName": "Ann"},
        "emails": [{"value": "ann@work.example", "type": "work"}, {"value": "ann@home.example", "type": "home"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Security"}})").as_object();
    const auto who = mapping::identity_from_json(scim);
    BOOST_TEST(who.attributes.at("name.givenName").front() == "Ann");
    BOOST_TEST(who.attributes.at("emails.work").front() == "ann@work.example");
    BOOST_TEST(who.attributes.at("emails").size() == 2u);
    BOOST_TEST(who.attributes.at("active").front() == "true");
    BOOST_TEST(who.attributes.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").front() ==
               "Security");
    BOOST_TEST(!who.attributes.contains("schemas"));
    BOOST_TEST(!who.groups.has_value());  // no groups key: unknown, not none

    const auto claims = boost::json::parse(R"({"sub": "x", "groups": ["a", "b"], "amr": ["pwd", "mfa"]})").as_object();
    const auto oidc = mapping::identity_from_json(claims);
    BOOST_TEST((oidc.groups == std::vector<std::string>{"a", "b"}));
    BOOST_TEST(oidc.attributes.at("amr").size() == 2u);
    BOOST_TEST(mapping::identity_from_json(boost::json::parse(R"({"groups": []})").as_object()).groups->empty());
}

BOOST_AUTO_TEST_SUITE_END()
