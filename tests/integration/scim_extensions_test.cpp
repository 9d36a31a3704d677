// SPDX-License-Identifier: AGPL-3.0-or-later
// User extension schemas declared in configuration: no code change to add one.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdio>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

constexpr const char* acme_urn = "urn:example:params:scim:schemas:extension:acme:2.0:User";

const std::string extension_yaml = std::string(R"(scim:
  extensions:
    - urn: )") + acme_urn + R"(
      name: AcmeUser
      attributes:
        - {name: badgeNumber, type: string, required: true, mutability: immutable}
        - {name: clearanceLevel, type: integer}
        - {name: contractor, type: boolean}
        - {name: hiredAt, type: dateTime}
        - {name: projects, type: string, multi_valued: true}
        - {name: pin, type: string, mutability: writeOnly, returned: never}
)";

struct extension_fixture {
    gateway_process gw{"", "ext", extension_yaml};
    std::string token;

    extension_fixture() {
        token = organization_with_scim_token(gw);
    }
    reply scim(verb v, const std::string& path, const std::string& body = "") {
        return call(gw.port(), v, "/scim/v2/acme" + path, body, {{"Authorization", "Bearer " + token}});
    }
    std::string user(const std::string& extension_json) {
        return std::string(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",")") + acme_urn +
               R"("],"userName":"ext.user",")" + acme_urn + "\":" + extension_json + "}";
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scim_extensions, extension_fixture)

BOOST_AUTO_TEST_CASE(configured_extension_is_validated_stored_returned_patched_and_discoverable) {
    const auto created = scim(verb::post, "/Users",
                              user(R"({"badgeNumber":"B-7","clearanceLevel":3,"contractor":"True","hiredAt":"2024-03-01T09:00:00Z","projects":["apollo","gemini"],"pin":"1234"})"));
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const auto u = json::parse(created.body);
    const auto& ext = u.at(acme_urn);
    BOOST_TEST(ext.at("badgeNumber").as_string() == "B-7");
    BOOST_TEST(ext.at("clearanceLevel").as_int64() == 3);
    BOOST_TEST(ext.at("contractor").as_bool());
    BOOST_TEST(ext.at("projects").as_array().size() == 2u);
    BOOST_TEST(!ext.as_object().contains("pin"));  // returned: never
    BOOST_TEST(created.body.find("1234") == std::string::npos);
    const std::string id{u.at("id").as_string()};

    // PATCH through the extension's URN-qualified path.
    const auto patched = scim(verb::patch, "/Users/" + id,
                              std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":")") +
                                  acme_urn + R"(:clearanceLevel","value":5}]})");
    BOOST_TEST_REQUIRE(patched.status == 200, patched.body);
    BOOST_TEST(json::parse(patched.body).at(acme_urn).at("clearanceLevel").as_int64() == 5);
    // Immutable once set.
    const auto changed = scim(verb::patch, "/Users/" + id,
                              std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":")") +
                                  acme_urn + R"(:badgeNumber","value":"B-8"}]})");
    BOOST_TEST(changed.status == 400);
    BOOST_TEST(json::parse(changed.body).at("scimType").as_string() == "mutability");

    const auto schema = json::parse(scim(verb::get, std::string("/Schemas/") + acme_urn).body);
    BOOST_TEST(schema.at("name").as_string() == "AcmeUser");
    BOOST_TEST(schema.at("attributes").as_array().size() == 6u);
    const auto types = json::parse(scim(verb::get, "/ResourceTypes").body);
    BOOST_TEST(types.at("Resources").at(0).at("schemaExtensions").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(wrong_values_for_a_configured_extension_are_400) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"clearanceLevel":3})", "invalidValue"},                      // badgeNumber is required
        {R"({"badgeNumber":"B","clearanceLevel":"three"})", "invalidValue"},
        {R"({"badgeNumber":"B","hiredAt":"yesterday"})", "invalidValue"},
        {R"({"badgeNumber":"B","projects":"apollo"})", "invalidValue"},
        {R"({"badgeNumber":"B","shoeSize":44})", "invalidSyntax"},
    };
    for (const auto& [ext, type] : cases) {
        const auto r = scim(verb::post, "/Users", user(ext));
        BOOST_TEST(r.status == 400, ext);
        BOOST_TEST(json::parse(r.body).at("scimType").as_string() == type, ext);
    }
    BOOST_TEST(json::parse(scim(verb::get, "/Users").body).at("totalResults").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(extension_attributes_can_be_filtered_by_their_type) {
    const std::string enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const auto create = [&](const std::string& name, const std::string& acme, const std::string& employee) {
        const auto r = scim(verb::post, "/Users",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + name + R"(",")" +
                                acme_urn + "\":" + acme + ",\"" + enterprise + R"(":{"employeeNumber":")" + employee + "\"}}");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
    };
    create("ada", R"({"badgeNumber":"B-7","clearanceLevel":3,"contractor":"True","hiredAt":"2024-03-01T09:00:00+01:00"})", "E-1");
    create("bob", R"({"badgeNumber":"b-8","clearanceLevel":1,"contractor":false})", "E-2");
    create("cy", R"({"badgeNumber":"C-9"})", "e-3");
    const auto names = [&](const std::string& filter) {
        std::string encoded;
        for (const char ch : filter) {
            if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_') encoded += ch;
            else {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(ch));
                encoded += hex;
            }
        }
        const auto r = scim(verb::get, "/Users?sortBy=userName&filter=" + encoded);
        if (r.status != 200) return "status " + std::to_string(r.status) + " " + r.body;
        std::string out;
        const auto page = json::parse(r.body);
        for (const auto& u : page.at("Resources").as_array())
            out += (out.empty() ? "" : ",") + std::string(u.at("userName").as_string());
        return out;
    };
    const std::string acme{acme_urn};
    BOOST_TEST(names(acme + ":clearanceLevel gt 2") == "ada");
    BOOST_TEST(names(acme + ":clearanceLevel le 3 and " + acme + ":contractor eq false") == "bob");
    BOOST_TEST(names(acme + ":contractor pr") == "ada,bob");
    BOOST_TEST(names("not (" + acme + ":clearanceLevel pr)") == "cy");
    BOOST_TEST(names(acme + ":badgeNumber sw \"b-\"") == "ada,bob");  // caseExact=false by default
    // Stored as a UTC dateTime: 09:00+01:00 is 08:00Z.
    BOOST_TEST(names(acme + ":hiredAt lt \"2024-03-01T08:30:00Z\"") == "ada");
    BOOST_TEST(names(enterprise + ":employeeNumber eq \"E-3\"") == "cy");
    // A multi-valued or undeclared extension attribute, or a mistyped value: 400 invalidFilter.
    for (const auto& bad : {acme + ":projects eq \"apollo\"", acme + ":shoeSize eq 44",
                            acme + ":clearanceLevel eq \"3\"", acme + ":contractor co \"t\""}) {
        const auto r = scim(verb::post, "/Users/.search",
                            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":")" +
                                [&] {
                                    std::string escaped;
                                    for (const char ch : bad) escaped += ch == '"' ? std::string("\\\"") : std::string(1, ch);
                                    return escaped;
                                }() + "\"}");
        BOOST_TEST(r.status == 400, bad << ": " << r.body);
        BOOST_TEST(r.body.find("invalidFilter") != std::string::npos, r.body);
    }
    const auto searched = scim(verb::post, "/Users/.search",
                               R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":")" + acme +
                                   R"(:clearanceLevel ge 1"})");
    BOOST_TEST(json::parse(searched.body).at("totalResults").as_int64() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
