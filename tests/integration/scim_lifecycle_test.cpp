// SPDX-License-Identifier: AGPL-3.0-or-later
// Whole provisioning lifecycles as Okta and Entra ID run them against the real binary, request by request
// (../shared/INTEROP.md O1-O13 and E1-E13). The single behaviours are tested elsewhere; here the point is
// the sequence: each step depends on what the previous ones left behind.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

constexpr const char* patch_urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct idp_client {
    gateway_process gw{"", "lifecycle"};
    std::string token = organization_with_scim_token(gw);
    std::vector<std::pair<std::string, std::string>> extra;  // the IdP's own headers (User-Agent...)

    reply send(verb v, const std::string& path, const std::string& body = "") {
        auto headers = extra;
        headers.emplace_back("Authorization", "Bearer " + token);
        if (!body.empty()) headers.emplace_back("Content-Type", "application/scim+json");
        return call(gw.port(), v, "/scim/v2/acme" + path, body, headers);
    }
    json::value ok(verb v, const std::string& path, const std::string& body, int status) {
        const auto r = send(v, path, body);
        BOOST_TEST_REQUIRE(r.status == status, path << " -> " << r.status << " " << r.body);
        if (!r.body.empty()) BOOST_TEST(r.header("Content-Type").starts_with("application/scim+json"));
        return r.body.empty() ? json::value() : json::parse(r.body);
    }
    json::value patch(const std::string& path, const std::string& operations, int status = 200) {
        return ok(verb::patch, path, std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":)" + operations + "}",
                  status);
    }
    std::set<std::string> members(const std::string& group_id) {
        const auto g = ok(verb::get, "/Groups/" + group_id, "", 200);
        std::set<std::string> out;
        if (const auto* m = g.as_object().if_contains("members"))
            for (const auto& v : m->as_array()) out.insert(std::string(v.at("value").as_string()));
        return out;
    }
};

std::string id_of(const json::value& v) { return std::string(v.at("id").as_string()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(idp_lifecycles)

BOOST_AUTO_TEST_CASE(O1_okta_provisions_imports_updates_deactivates_and_pushes_groups) {
    idp_client okta;
    okta.extra = {{"User-Agent", "Okta SCIM Client 1.0.0"}};  // O1
    // O2: the connection test.
    okta.ok(verb::get, "/Users?startIndex=1&count=2", "", 200);
    // O3: the existence check before a create (case-insensitive, empty result).
    auto found = okta.ok(verb::get, "/Users?filter=userName%20eq%20%22Test.User%40okta.local%22&startIndex=1&count=100", "", 200);
    BOOST_TEST(found.at("totalResults").as_int64() == 0);
    // O4: create, with the password Okta sends (never returned).
    std::vector<std::string> users;
    for (int i = 0; i < 3; ++i) {
        const auto created = okta.ok(verb::post, "/Users",
                                     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user)" +
                                         std::to_string(i) + R"(@okta.local","name":{"givenName":"Test","familyName":"User)" +
                                         std::to_string(i) + R"("},"emails":[{"primary":true,"value":"test.user)" +
                                         std::to_string(i) + R"(@okta.local","type":"work"}],"displayName":"Test User",)"
                                         R"("locale":"en-US","externalId":"00ujl29u0le5T6Aj10h)" + std::to_string(i) +
                                         R"(","groups":[],"password":"1mz050nq","active":true})",
                                     201);
        BOOST_TEST(!created.as_object().contains("password"));
        users.push_back(id_of(created));
    }
    found = okta.ok(verb::get, "/Users?filter=userName%20eq%20%22TEST.USER0%40okta.local%22", "", 200);
    BOOST_TEST(found.at("totalResults").as_int64() == 1);
    // A second create of the same userName is a 409 uniqueness (R1).
    const auto duplicate = okta.send(verb::post, "/Users",
                                     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"TEST.USER0@okta.local"})");
    BOOST_TEST(duplicate.status == 409);
    BOOST_TEST(json::parse(duplicate.body).at("scimType").as_string() == "uniqueness");
    // O5: import in pages of 2: integers, stable, complete.
    std::set<std::string> imported;
    for (int start = 1;; start += 2) {
        const auto page = okta.ok(verb::get, "/Users?startIndex=" + std::to_string(start) + "&count=2", "", 200);
        BOOST_TEST(page.at("totalResults").is_int64());
        for (const auto& u : page.at("Resources").as_array()) imported.insert(id_of(u));
        if (start + 2 > page.at("totalResults").as_int64()) break;
    }
    BOOST_TEST(imported.size() == 3u);
    // O6: profile update by GET then PUT of the whole resource; an omitted attribute is cleared.
    auto user = okta.ok(verb::get, "/Users/" + users[0], "", 200).as_object();
    user["title"] = "Engineer";
    user.erase("locale");
    const auto put = okta.ok(verb::put, "/Users/" + users[0], json::serialize(user), 200);
    BOOST_TEST(put.at("title").as_string() == "Engineer");
    BOOST_TEST(!put.as_object().contains("locale"));
    BOOST_TEST(put.at("active").as_bool());  // PUT carried active: unchanged
    // O7: deactivate and reactivate with a path-less value object.
    auto patched = okta.patch("/Users/" + users[0], R"([{"op":"replace","value":{"active":false}}])");
    BOOST_TEST(!patched.at("active").as_bool());
    BOOST_TEST(!okta.ok(verb::get, "/Users/" + users[0], "", 200).at("active").as_bool());  // kept, inactive
    patched = okta.patch("/Users/" + users[0], R"([{"op":"replace","value":{"active":true}}])");
    BOOST_TEST(patched.at("active").as_bool());
    // O8: group push.
    const auto group = id_of(okta.ok(verb::post, "/Groups",
                                     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]})",
                                     201));
    // O9 + O10: rename, remove and add in one PATCH, applied in order.
    okta.patch("/Groups/" + group,
               R"([{"op":"add","path":"members","value":[{"value":")" + users[0] + R"("},{"value":")" + users[1] + R"("}]}])", 204);
    okta.patch("/Groups/" + group,
               R"([{"op":"replace","value":{"id":")" + group + R"(","displayName":"Test SCIMv2 renamed"}},)"
               R"({"op":"remove","path":"members[value eq \")" + users[0] + R"(\"]"},)"
               R"({"op":"add","path":"members","value":[{"value":")" + users[2] + R"(","display":"test.user2@okta.local"}]}])",
               204);
    BOOST_TEST(okta.members(group) == (std::set<std::string>{users[1], users[2]}));
    BOOST_TEST(okta.ok(verb::get, "/Groups/" + group, "", 200).at("displayName").as_string() == "Test SCIMv2 renamed");
    // O11: a full push replaces the members, also with an empty list.
    okta.patch("/Groups/" + group, R"([{"op":"replace","path":"members","value":[{"value":")" + users[0] + R"("}]}])", 204);
    BOOST_TEST(okta.members(group) == (std::set<std::string>{users[0]}));
    okta.patch("/Groups/" + group, R"([{"op":"replace","path":"members","value":[]}])", 204);
    BOOST_TEST(okta.members(group).empty());
    // O12: list, read, delete the group.
    BOOST_TEST(okta.ok(verb::get, "/Groups?startIndex=1&count=100", "", 200).at("totalResults").as_int64() == 1);
    okta.ok(verb::delete_, "/Groups/" + group, "", 204);
    BOOST_TEST(okta.send(verb::get, "/Groups/" + group).status == 404);
    // Users outlive their groups' deletion.
    BOOST_TEST(okta.ok(verb::get, "/Users?count=0", "", 200).at("totalResults").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(E13_entra_provisions_one_tenant_in_both_patch_dialects_and_manages_groups) {
    idp_client entra;
    // E1: the connection test asks for a user and a group that do not exist.
    BOOST_TEST(entra.ok(verb::get, "/Users?filter=userName%20eq%20%22a2bd3bc8-0000-4f57-b61c-0f3c4d5c6e7f%22", "", 200)
                   .at("totalResults").as_int64() == 0);
    BOOST_TEST(entra.ok(verb::get, "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22nope%22", "", 200)
                   .at("totalResults").as_int64() == 0);
    // E3: create with the enterprise extension.
    const auto create = [&](const std::string& upn, const std::string& object_id) {
        return id_of(entra.ok(
            verb::post, "/Users",
            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],)"
            R"("externalId":")" + object_id + R"(","userName":")" + upn + R"(","active":true,)"
            R"("emails":[{"primary":true,"type":"work","value":")" + upn + R"("}],"meta":{"resourceType":"User"},)"
            R"("name":{"formatted":"Ann Lee","familyName":"Lee","givenName":"Ann"},"roles":[],)"
            R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1"}})",
            201));
    };
    const auto ann = create("ann@contoso.com", "6f1c2e4a-0b9d-4d7e-9a51-3c2f8e7d1b20");
    const auto bob = create("bob@contoso.com", "8b3e1f4a-2c5d-4e6f-8a9b-0c1d2e3f4a5b");
    // E2: queries by externalId and by work email.
    BOOST_TEST(entra.ok(verb::get, "/Users?filter=externalId%20eq%20%226f1c2e4a-0b9d-4d7e-9a51-3c2f8e7d1b20%22", "", 200)
                   .at("totalResults").as_int64() == 1);
    BOOST_TEST(entra.ok(verb::get, "/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22bob%40contoso.com%22", "", 200)
                   .at("totalResults").as_int64() == 1);
    // E4: updates without the compliance flag: capitalised ops, filtered and extension paths.
    auto u = entra.patch("/Users/" + ann,
                         R"([{"op":"Replace","path":"emails[type eq \"work\"].value","value":"ann.lee@contoso.com"},)"
                         R"({"op":"Replace","path":"name.familyName","value":"Lee-Smith"},)"
                         R"({"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}])");
    BOOST_TEST(u.at("name").at("familyName").as_string() == "Lee-Smith");
    BOOST_TEST(u.at("emails").at(0).at("value").as_string() == "ann.lee@contoso.com");
    BOOST_TEST(u.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").at("employeeNumber").as_string() == "42");
    // E6: with the flag, a path-less op whose value keys are paths.
    u = entra.patch("/Users/" + ann,
                    R"([{"op":"replace","value":{"displayName":"Ann Lee-Smith","name.givenName":"Annie",)"
                    R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"43"}}])");
    BOOST_TEST(u.at("displayName").as_string() == "Ann Lee-Smith");
    BOOST_TEST(u.at("name").at("givenName").as_string() == "Annie");
    BOOST_TEST(u.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").at("employeeNumber").as_string() == "43");
    // E5: disable in all three forms, re-enable.
    BOOST_TEST(!entra.patch("/Users/" + ann, R"([{"op":"Replace","path":"active","value":"False"}])").at("active").as_bool());
    BOOST_TEST(entra.patch("/Users/" + ann, R"([{"op":"Replace","path":"active","value":"True"}])").at("active").as_bool());
    BOOST_TEST(!entra.patch("/Users/" + ann, R"([{"op":"replace","path":"active","value":false}])").at("active").as_bool());
    BOOST_TEST(entra.patch("/Users/" + ann, R"([{"op":"Replace","value":true}])", 400).at("status").as_string() == "400");
    BOOST_TEST(entra.patch("/Users/" + ann, R"([{"op":"replace","value":{"active":true}}])").at("active").as_bool());
    // E8: group create with Entra's extra schema, empty; E9: members added, then removed by value list.
    const auto group = id_of(entra.ok(
        verb::post, "/Groups",
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],)"
        R"("externalId":"0a1b2c3d-4e5f-6789-abcd-ef0123456789","displayName":"Security","meta":{"resourceType":"Group"}})",
        201));
    entra.patch("/Groups/" + group,
                R"([{"op":"Add","path":"members","value":[{"$ref":null,"value":")" + ann + R"("},{"$ref":null,"value":")" + bob + R"("}]}])",
                204);
    BOOST_TEST(entra.members(group) == (std::set<std::string>{ann, bob}));
    entra.patch("/Groups/" + group, R"([{"op":"Remove","path":"members","value":[{"value":")" + bob + R"("}]}])", 204);
    BOOST_TEST(entra.members(group) == (std::set<std::string>{ann}));  // only the listed member left
    entra.patch("/Groups/" + group, R"([{"op":"remove","path":"members[value eq \")" + ann + R"(\"]"}])", 204);
    BOOST_TEST(entra.members(group).empty());
    // E10: rename; E2: Entra finds groups by displayName, without members.
    entra.patch("/Groups/" + group, R"([{"op":"Replace","path":"displayName","value":"Security Team"}])", 204);
    const auto byname = entra.ok(verb::get, "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Security%20Team%22", "", 200);
    BOOST_TEST_REQUIRE(byname.at("totalResults").as_int64() == 1);
    BOOST_TEST(!byname.at("Resources").at(0).as_object().contains("members"));
    // Unassigning a user is a PATCH active=false, not a DELETE: the user stays, inactive.
    entra.patch("/Users/" + bob, R"([{"op":"Replace","path":"active","value":"False"}])");
    BOOST_TEST(!entra.ok(verb::get, "/Users/" + bob, "", 200).at("active").as_bool());
}

BOOST_AUTO_TEST_SUITE_END()
