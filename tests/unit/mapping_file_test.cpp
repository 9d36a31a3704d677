// SPDX-License-Identifier: AGPL-3.0-or-later
// Mapping files: the examples load and mean what they say; every kind of mistake is refused with
// file:line:column and what would be accepted.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/crypto.hpp"
#include "mapping/file.hpp"

using namespace idgate;

namespace {

std::string error_of(const std::string& yaml) {
    try {
        mapping::parse_mapping(yaml, "okta.yaml");
    } catch (const mapping::file_error& e) {
        return e.what();
    }
    return "(no error)";
}

const std::string examples = std::string(IDGATE_SOURCE_DIR) + "/examples/mapping";

}  // namespace

BOOST_AUTO_TEST_SUITE(mapping_files)

BOOST_AUTO_TEST_CASE(the_okta_example_loads_and_maps_a_push) {
    const auto f = mapping::load_mapping(examples + "/okta.yaml");
    BOOST_TEST(f.organization == "acme");
    BOOST_TEST(f.connection == "okta-main");
    BOOST_TEST(f.policy.authorization_external);
    BOOST_TEST(!f.policy.allow_local_invite);
    BOOST_TEST(f.policy.allow_local_mfa);
    mapping::identity admin;
    admin.attributes = {{"userName", {" Ann@Example.com "}}, {"emails.work", {"ann@example.com"}},
                        {"name.givenName", {"Ann"}}, {"department", {"Security"}}};
    admin.groups = std::vector<std::string>{"idgate-admins", "sec-ir-oncall"};
    const auto out = mapping::evaluate(f.rules, admin);
    BOOST_TEST(out.accepted());
    BOOST_TEST(out.fields.at(mapping::field::user_name) == "ann@example.com");
    BOOST_TEST((*out.system_role == schema::system_role::admin));
    BOOST_TEST(out.system_role_from.rule == "okta-admins");
    BOOST_TEST_REQUIRE(out.permissions.size() == 1u);
    BOOST_TEST(out.permissions[0].second.rule == "security-responders");
    BOOST_TEST(out.scoped.size() == 2u);  // Incidents (rule) and General (defaults)

    mapping::identity contractor = admin;
    contractor.attributes["userType"] = {"Contractor"};
    BOOST_TEST(mapping::evaluate(f.rules, contractor).denied_by == "no-contractors");
}

BOOST_AUTO_TEST_CASE(the_entra_example_reads_claim_uris_and_survives_a_group_overage) {
    const auto f = mapping::load_mapping(examples + "/entra.yaml");
    BOOST_TEST(f.connection == "entra-prod");
    BOOST_TEST((f.policy.on_delete == mapping::connection_policy::deprovision::remove));
    mapping::identity saml;
    saml.attributes = {
        {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", {"ann@contoso.com"}},
        {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", {"Ann@Contoso.com"}},
        {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", {"Ann"}},
        {"department", {"Engineering/Platform"}},
        {"http://schemas.microsoft.com/ws/2008/06/identity/claims/role", {"Analyst"}}};
    saml.groups = std::nullopt;  // groups.link instead of groups: overage
    const auto out = mapping::evaluate(f.rules, saml);
    BOOST_TEST(out.accepted());
    BOOST_TEST(out.fields.at(mapping::field::email) == "ann@contoso.com");
    BOOST_TEST(out.fields.at(mapping::field::department) == "Engineering");
    BOOST_TEST((*out.system_role == schema::system_role::member));
    BOOST_TEST(out.undetermined_rules == (std::vector<std::string>{"soc-group"}));
}

BOOST_AUTO_TEST_CASE(the_examples_directory_loads_as_a_whole) {
    const auto files = mapping::load_mapping_directory(examples);
    BOOST_TEST(files.size() == 4u);
}

BOOST_AUTO_TEST_CASE(the_oidc_examples_map_okta_claims_and_fail_closed_on_an_entra_overage) {
    const auto okta = mapping::load_mapping(examples + "/okta-oidc.yaml");
    mapping::identity ann;
    ann.attributes = {{"sub", {"00u1a2b3"}}, {"email", {"Ann@Example.com"}}, {"preferred_username", {"Ann@Example.com"}}};
    ann.groups = std::vector<std::string>{"idgate-admins", "sec-ir-east"};
    const auto out = mapping::evaluate(okta.rules, ann);
    BOOST_TEST(out.accepted());
    BOOST_TEST(out.fields.at(mapping::field::external_id) == "00u1a2b3");  // joins Okta's SCIM externalId
    BOOST_TEST(out.fields.at(mapping::field::user_name) == "ann@example.com");
    BOOST_TEST((*out.system_role == schema::system_role::admin));
    BOOST_TEST(out.permissions.size() == 1u);

    const auto entra = mapping::load_mapping(examples + "/entra-oidc.yaml");
    mapping::identity bob;
    bob.attributes = {{"oid", {"o-1"}}, {"tid", {"t-1"}}, {"preferred_username", {"bob@contoso.com"}},
                      {"roles", {"Analyst"}}};
    bob.groups = std::vector<std::string>{};
    const auto known = mapping::evaluate(entra.rules, bob);
    BOOST_TEST(known.accepted());
    BOOST_TEST((*known.system_role == schema::system_role::member));
    bob.groups = std::nullopt;  // the overage: groups unknown
    const auto overage = mapping::evaluate(entra.rules, bob);
    BOOST_TEST(overage.denied);
    BOOST_TEST(overage.denied_unknown);
    BOOST_TEST(overage.denied_by == "blocked-group");
}

BOOST_AUTO_TEST_CASE(mistakes_are_refused_with_line_column_and_the_alternatives) {
    struct row {
        const char* yaml;
        const char* expected;  // the start of the message
    };
    const std::vector<row> table{
        {"connection: okta\nrules:\n  - name: a\n    when: {always: true}\n    gant: {system_role: admin}\norganization: acme\n",
         "okta.yaml:5:5: 'rules[0].gant': unknown key (expected one of: name, when, grant, deny_login)"},
        {"connection: okta\nrules:\n  - name: a\n    when: {always: true}\n    grant: {system_role: emperor}\norganization: acme\n",
         "okta.yaml:5:26: 'rules[0].grant.system_role': unknown system role 'emperor' (expected guest, member, manager, "
         "admin or super_admin)"},
        {"connection: okta\nrules:\n  - name: a\n    when: {group_matches: \"(unclosed\"}\n    grant: {permissions: [x]}\n"
         "organization: acme\n",
         "okta.yaml:4:27: 'rules[0].when.group_matches': not a valid regular expression"},
        {"connection: okta\nattributes:\n  shoe_size: [shoe]\norganization: acme\n",
         "okta.yaml:3:3: 'attributes.shoe_size': unknown field 'shoe_size' (expected one of: user_name, email"},
        {"connection: okta\nattributes:\n  email: {from: [mail], required: perhaps}\norganization: acme\n",
         "okta.yaml:3:35: 'attributes.email.required': expected true or false"},
        {"connection: okta\nrules:\n  - name: a\n    when: {group: x}\norganization: acme\n", "okta.yaml:3:5: 'rules[0]': needs 'grant'"},
        {"connection: okta\nrules:\n  - when: {group: x}\n    deny_login: true\norganization: acme\n", "okta.yaml:3:5: 'rules[0]': every rule needs a 'name'"},
        {"connection: okta\nrules:\n  - name: a\n    when: {group: x, group_prefix: y}\n    deny_login: true\norganization: acme\n",
         "okta.yaml:4:11: 'rules[0].when': a condition is a mapping with one key"},
        {"connection: okta\ndefaults: {scoped: [{workspace: W, role: boss}]}\norganization: acme\n",
         "okta.yaml:2:42: 'defaults.scoped[0].role': unknown scoped role 'boss' (expected owner, editor or viewer)"},
        {"connection: okta\ndefaults: {permissions: [\"Active Response\"]}\norganization: acme\n",
         "okta.yaml:2:25: 'defaults.permissions': 'Active Response' is not a permission name"},
        {"attributes: {}\n", "okta.yaml:1:1: 'organization' is required"},
        {"organization: acme\n", "okta.yaml:1:1: 'connection' is required"},
        {"connection: okta\nlocks: {authorization: sometimes}\norganization: acme\n",
         "okta.yaml:2:24: 'locks.authorization': expected external or local"},
        {"connection: okta\nrules: [\n", "okta.yaml:3:1: not valid YAML"},
        {"connection: okta\nidentity_conflicts: merge\norganization: acme\n",
         "okta.yaml:2:21: 'identity_conflicts': expected reject, link_verified_email or queue"},
    };
    for (const auto& r : table) {
        const auto message = error_of(r.yaml);
        BOOST_TEST(message.rfind(r.expected, 0) == 0u, "got: " << message << "\nwanted: " << r.expected);
    }
}

BOOST_AUTO_TEST_CASE(policies_default_to_refusing_takeovers_and_rfc_deletes) {
    const auto plain = mapping::parse_mapping("organization: acme\nconnection: okta\n", "okta.yaml");
    BOOST_TEST((plain.policy.on_conflict == mapping::connection_policy::conflict_policy::reject));
    BOOST_TEST((plain.policy.on_deactivate == mapping::connection_policy::deprovision::disable));
    BOOST_TEST((plain.policy.on_delete == mapping::connection_policy::deprovision::remove));
    const auto queued = mapping::parse_mapping(
        "organization: acme\nconnection: okta\nidentity_conflicts: queue\ndeprovisioning: {on_delete: disable}\n",
        "okta.yaml");
    BOOST_TEST((queued.policy.on_conflict == mapping::connection_policy::conflict_policy::queue));
    BOOST_TEST((queued.policy.on_delete == mapping::connection_policy::deprovision::disable));
    BOOST_TEST(mapping::to_string(queued.policy.on_conflict) == "queue");
}

BOOST_AUTO_TEST_CASE(a_directory_with_one_bad_file_or_two_files_for_one_connection_is_refused) {
    const auto dir = std::filesystem::temp_directory_path() / ("idgate-mapping-" + core::new_uuid());
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "a.yaml") << "organization: acme\nconnection: okta\n";
    std::ofstream(dir / "b.yaml") << "organization: acme\nconnection: okta\n";
    try {
        mapping::load_mapping_directory(dir.string());
        BOOST_FAIL("two files for one connection were accepted");
    } catch (const mapping::file_error& e) {
        BOOST_TEST(std::string(e.what()).find("connection 'acme/okta' is already mapped by") != std::string::npos);
    }
    std::ofstream(dir / "b.yaml") << "organization: acme\nconnection: entra\nrules: 7\n";
    BOOST_CHECK_THROW(mapping::load_mapping_directory(dir.string()), mapping::file_error);
    std::ofstream(dir / "b.yaml") << "organization: other\nconnection: okta\n";  // another organization's okta
    BOOST_TEST(mapping::load_mapping_directory(dir.string()).size() == 2u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
