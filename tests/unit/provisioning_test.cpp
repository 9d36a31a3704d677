// SPDX-License-Identifier: AGPL-3.0-or-later
// The pure parts of provisioning: what a stored user looks like to the mapping rules (the same as the
// SCIM body the IdP pushed), and the grants an outcome asks for.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "mapping/explain.hpp"
#include "mapping/file.hpp"
#include "provisioning/reconciler.hpp"

using namespace idgate;

BOOST_AUTO_TEST_SUITE(provisioning_rules)

BOOST_AUTO_TEST_CASE(a_stored_user_reads_like_the_scim_body_that_created_it) {
    schema::user u;
    u.id = "u1";
    u.user_name = "ann@example.com";
    u.external_id = "00u1";
    u.name.given_name = "Ann";
    u.title = "Engineer";
    u.department = "Security";
    u.emails = {{"ann@example.com", "work", "", true}};
    u.groups = {{"g1", "sec-ir"}, {"g2", "admins"}};
    const scim::extension_registry no_extensions;
    const auto who = provisioning::identity_of(u, no_extensions);
    const auto pushed = mapping::identity_from_json(boost::json::parse(R"({
        "userName": "ann@example.com", "externalId": "00u1", "name": {"givenName": "Ann"}, "title": "Engineer",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Security"},
        "emails": [{"value": "ann@example.com", "type": "work", "primary": true}]})").as_object());
    for (const auto& [name, values] : pushed.attributes) {
        BOOST_TEST_REQUIRE(who.attributes.count(name) == 1u, name);
        BOOST_TEST(who.attributes.at(name) == values, name);
    }
    BOOST_TEST_REQUIRE(who.groups.has_value());
    auto groups = *who.groups;  // the groups' display names, which group conditions match
    std::sort(groups.begin(), groups.end());
    BOOST_TEST((groups == std::vector<std::string>{"admins", "sec-ir"}));
    // SCIM knows every membership: a user in no group is in no group, not "groups unknown".
    u.groups.clear();
    const auto alone = provisioning::identity_of(u, no_extensions);
    BOOST_TEST_REQUIRE(alone.groups.has_value());
    BOOST_TEST(alone.groups->empty());
}

BOOST_AUTO_TEST_CASE(desired_grants_carry_provenance_and_the_without_grants_policy) {
    const auto file = mapping::parse_mapping(R"(organization: acme
connection: okta
defaults:
  system_role: member
  scoped: [{workspace: General, role: viewer}]
rules:
  - name: admins
    when: {group: admins}
    grant: {system_role: admin, permissions: [active_response]}
deprovisioning: {without_grants: disable}
)",
                                             "okta.yaml");
    mapping::identity admin;
    admin.groups = std::vector<std::string>{"admins"};
    auto d = provisioning::desired_for(file, mapping::evaluate(file.rules, admin));
    BOOST_TEST((d.system_role == schema::system_role::admin));
    BOOST_TEST(d.system_role_rule == "admins");
    BOOST_TEST_REQUIRE(d.permissions.size() == 1u);
    BOOST_TEST(d.permissions[0].rule == "admins");
    BOOST_TEST_REQUIRE(d.scoped_roles.size() == 1u);
    BOOST_TEST(d.scoped_roles[0].rule == "defaults");
    BOOST_TEST(!d.disable);

    // Only the defaults: no rule grants access any more, so without_grants: disable disables.
    mapping::identity nobody;
    nobody.groups = std::vector<std::string>{};
    d = provisioning::desired_for(file, mapping::evaluate(file.rules, nobody));
    BOOST_TEST((d.system_role == schema::system_role::member));
    BOOST_TEST(d.disable);

    // Groups unknown (an overage): the rule is undetermined, its grants are kept, nobody is disabled.
    mapping::identity unknown;
    d = provisioning::desired_for(file, mapping::evaluate(file.rules, unknown));
    BOOST_TEST(d.keep_rules == std::vector<std::string>{"admins"});
    BOOST_TEST(!d.disable);
}

BOOST_AUTO_TEST_SUITE_END()
