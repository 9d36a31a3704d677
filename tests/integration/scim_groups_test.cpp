// SPDX-License-Identifier: AGPL-3.0-or-later
// SCIM /Groups against the real binary: Okta Group Push and Entra ID group provisioning, membership
// deltas, and the lifecycles of ../shared/INTEROP.md (O8-O13, E8-E10, R5, R6).
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

constexpr const char* patch_urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct group_fixture {
    gateway_process gw;
    std::string token;
    std::string base = "/scim/v2/acme";
    std::vector<std::string> users;

    group_fixture() {
        token = organization_with_scim_token(gw);
        for (int i = 0; i < 4; ++i) {
            const auto r = scim(verb::post, "/Users",
                                R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user)" +
                                    std::to_string(i) + R"(@okta.local"})");
            BOOST_TEST_REQUIRE(r.status == 201, r.body);
            users.emplace_back(json::parse(r.body).at("id").as_string());
        }
    }

    reply scim(verb v, const std::string& path, const std::string& body = "",
               std::vector<std::pair<std::string, std::string>> extra = {}) {
        extra.emplace_back("Authorization", "Bearer " + token);
        return call(gw.port(), v, base + path, body, extra);
    }

    std::string create_group(const std::string& body) {
        const auto r = scim(verb::post, "/Groups", body);
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }

    reply patch(const std::string& id, const std::string& operations) {
        return scim(verb::patch, "/Groups/" + id,
                    std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":)" + operations + "}");
    }

    std::set<std::string> members(const std::string& id) {
        const auto g = json::parse(scim(verb::get, "/Groups/" + id).body);
        std::set<std::string> out;
        if (const auto* m = g.as_object().if_contains("members"))
            for (const auto& v : m->as_array()) out.insert(std::string(v.at("value").as_string()));
        return out;
    }

    std::string member(std::size_t i) { return R"({"value":")" + users[i] + R"("})"; }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scim_groups, group_fixture)

BOOST_AUTO_TEST_CASE(O8_O12_group_push_create_read_list_and_delete) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]})");
    const auto g = json::parse(scim(verb::get, "/Groups/" + id).body);
    BOOST_TEST(g.at("displayName").as_string() == "Test SCIMv2");
    BOOST_TEST(g.at("meta").at("resourceType").as_string() == "Group");
    const auto list = json::parse(scim(verb::get, "/Groups?startIndex=1&count=100").body);
    BOOST_TEST(list.at("totalResults").as_int64() == 1);
    BOOST_TEST(scim(verb::delete_, "/Groups/" + id).status == 204);
    BOOST_TEST(scim(verb::get, "/Groups/" + id).status == 404);
    // The users are untouched by deleting their group.
    BOOST_TEST(scim(verb::get, "/Users/" + users[0]).status == 200);
}

BOOST_AUTO_TEST_CASE(O9_O10_rename_and_membership_delta_in_one_request_applied_in_order) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[)" +
                                 member(0) + "," + member(1) + "]}");
    // Okta: rename with the id repeated, remove one member by filter, add another without "type".
    const auto r = patch(id, R"([{"op":"replace","value":{"id":")" + id + R"(","displayName":"Engineering"}},
        {"op":"remove","path":"members[value eq \")" + users[0] + R"(\"]"},
        {"op":"add","path":"members","value":[{"value":")" + users[2] + R"(","display":"user2@okta.local"}]}])");
    BOOST_TEST(r.status == 204, r.body);
    BOOST_TEST(r.body.empty());
    BOOST_TEST((members(id) == std::set<std::string>{users[1], users[2]}));
    BOOST_TEST(json::parse(scim(verb::get, "/Groups/" + id).body).at("displayName").as_string() == "Engineering");
    // In order: remove then add of the same member leaves it in; add then remove leaves it out.
    patch(id, R"([{"op":"remove","path":"members[value eq \")" + users[1] + R"(\"]"},{"op":"add","path":"members","value":[)" + member(1) + "]}]");
    BOOST_TEST(members(id).count(users[1]) == 1u);
    patch(id, R"([{"op":"add","path":"members","value":[)" + member(3) + R"(]},{"op":"remove","path":"members[value eq \")" + users[3] + R"(\"]"}])");
    BOOST_TEST(members(id).count(users[3]) == 0u);
}

BOOST_AUTO_TEST_CASE(O11_R6_replace_members_with_a_list_an_empty_list_and_a_value_object) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[)" +
                                 member(0) + "," + member(1) + "]}");
    BOOST_TEST(patch(id, R"([{"op":"replace","path":"members","value":[)" + member(2) + "," + member(3) + "]}]").status == 204);
    BOOST_TEST((members(id) == std::set<std::string>{users[2], users[3]}));
    BOOST_TEST(patch(id, R"([{"op":"replace","path":"members","value":[]}])").status == 204);  // SCIM-SDK#757
    BOOST_TEST(members(id).empty());
    BOOST_TEST(patch(id, R"([{"op":"replace","value":{"members":[)" + member(1) + R"(],"id":")" + id +
                             R"(","displayName":"Ops"}}])").status == 204);  // scimgateway#113
    BOOST_TEST((members(id) == std::set<std::string>{users[1]}));
    // remove without a filter or value removes all, as RFC 7644 §3.5.2.2 says.
    BOOST_TEST(patch(id, R"([{"op":"remove","path":"members"}])").status == 204);
    BOOST_TEST(members(id).empty());
}

BOOST_AUTO_TEST_CASE(users_show_their_groups_read_only_and_can_be_filtered_by_them) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Readers","members":[)" +
                                 member(0) + "," + member(2) + "]}");
    const auto u = json::parse(scim(verb::get, "/Users/" + users[0]).body);
    BOOST_REQUIRE(u.as_object().contains("groups"));
    BOOST_TEST(u.at("groups").at(0).at("value").as_string() == id);
    BOOST_TEST(u.at("groups").at(0).at("display").as_string() == "Readers");
    BOOST_TEST(u.at("groups").at(0).at("$ref").as_string() == base + "/Groups/" + id);
    BOOST_TEST(!json::parse(scim(verb::get, "/Users/" + users[1]).body).as_object().contains("groups"));
    const auto members = json::parse(scim(verb::get, "/Users?filter=groups.value%20eq%20%22" + id + "%22").body);
    BOOST_TEST(members.at("totalResults").as_int64() == 2);
    // Read-only: a PUT of the user with other groups changes nothing about memberships.
    const auto put = scim(verb::put, "/Users/" + users[1],
                          R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user1@okta.local","groups":[{"value":")" +
                              id + R"("}]})");
    BOOST_TEST(put.status == 200, put.body);
    BOOST_TEST(members.at("totalResults").as_int64() == 2);
    BOOST_TEST(!json::parse(put.body).as_object().contains("groups"));
}

BOOST_AUTO_TEST_CASE(O13_put_replaces_membership) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"AIW","members":[)" +
                                 member(0) + "]}");
    const auto r = scim(verb::put, "/Groups/" + id,
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":")" + id +
                            R"(","displayName":"AIW renamed","members":[)" + member(1) + "," + member(2) + "]}");
    BOOST_TEST(r.status == 200, r.body);
    BOOST_TEST((members(id) == std::set<std::string>{users[1], users[2]}));
    BOOST_TEST(json::parse(r.body).at("displayName").as_string() == "AIW renamed");
}

BOOST_AUTO_TEST_CASE(E8_E9_E10_entra_group_provisioning) {
    const auto r = scim(verb::post, "/Groups",
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                            "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}})");
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    const std::string id{json::parse(r.body).at("id").as_string()};
    // E2: Entra matches groups by displayName, excluding members.
    const auto found = json::parse(scim(verb::get, "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22displayName%22").body);
    BOOST_TEST(found.at("totalResults").as_int64() == 1);
    BOOST_TEST(!found.at("Resources").at(0).as_object().contains("members"));
    BOOST_TEST(!json::parse(scim(verb::get, "/Groups/" + id + "?excludedAttributes=members").body).as_object().contains("members"));
    // E9: add with "$ref": null; remove without the flag lists the values to remove (only those go).
    BOOST_TEST(patch(id, R"([{"op":"Add","path":"members","value":[{"$ref":null,"value":")" + users[0] + R"("},{"$ref":null,"value":")" + users[1] + R"("}]}])").status == 204);
    BOOST_TEST(patch(id, R"([{"op":"Remove","path":"members","value":[{"value":")" + users[0] + R"("}]}])").status == 204);
    BOOST_TEST((members(id) == std::set<std::string>{users[1]}));
    // With the flag: a filtered remove.
    BOOST_TEST(patch(id, R"([{"op":"remove","path":"members[value eq \")" + users[1] + R"(\"]"}])").status == 204);
    BOOST_TEST(members(id).empty());
    // E10: rename by path.
    BOOST_TEST(patch(id, R"([{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}])").status == 204);
    BOOST_TEST(json::parse(scim(verb::get, "/Groups/" + id).body).at("displayName").as_string() ==
               "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
}

BOOST_AUTO_TEST_CASE(R5_replayed_membership_patches_are_harmless) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Replay"})");
    const std::string ops = R"([{"op":"add","path":"members","value":[)" + member(0) + R"(]},{"op":"remove","path":"members[value eq \")" + users[1] + R"(\"]"}])";
    BOOST_TEST(patch(id, ops).status == 204);
    BOOST_TEST(patch(id, ops).status == 204);
    BOOST_TEST((members(id) == std::set<std::string>{users[0]}));
}

BOOST_AUTO_TEST_CASE(R5_concurrent_membership_patches_never_lose_members) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Busy"})");
    // Twelve more users, added by four concurrent writers, three each.
    std::vector<std::string> more;
    for (int i = 0; i < 12; ++i)
        more.emplace_back(json::parse(scim(verb::post, "/Users", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c)" + std::to_string(i) + R"("})").body)
                              .at("id")
                              .as_string());
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                const auto r = call(gw.port(), verb::patch, base + "/Groups/" + id,
                                    std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":[{"op":"add","path":"members","value":[{"value":")" +
                                        more[static_cast<std::size_t>(t * 3 + i)] + R"("}]}]})",
                                    {{"Authorization", "Bearer " + token}});
                if (r.status == 204) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(ok.load() == 12);
    BOOST_TEST(members(id).size() == 12u);
}

BOOST_AUTO_TEST_CASE(bad_group_requests_get_the_right_scim_errors_and_change_nothing) {
    const auto id = create_group(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Stable","members":[)" + member(0) + "]}");
    const auto dup = scim(verb::post, "/Groups", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"STABLE"})");
    BOOST_TEST(dup.status == 409);
    BOOST_TEST(json::parse(dup.body).at("scimType").as_string() == "uniqueness");
    const auto ghost = scim(verb::post, "/Groups", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ghosts","members":[{"value":"no-such-user"}]})");
    BOOST_TEST(ghost.status == 400);
    BOOST_TEST(json::parse(ghost.body).at("scimType").as_string() == "invalidValue");
    BOOST_TEST(json::parse(scim(verb::get, "/Groups?filter=displayName%20eq%20%22Ghosts%22").body).at("totalResults").as_int64() == 0);
    // A failing operation after a good one: nothing of the request is applied.
    const auto partial = patch(id, R"([{"op":"add","path":"members","value":[)" + member(1) + R"(]},{"op":"add","path":"members","value":[{"value":"no-such-user"}]}])");
    BOOST_TEST(partial.status == 400);
    BOOST_TEST((members(id) == std::set<std::string>{users[0]}));
    const std::pair<std::string, std::string> cases[] = {
        {R"([{"op":"remove","path":"displayName"}])", "mutability"},
        {R"([{"op":"replace","path":"id","value":"other"}])", "mutability"},
        {R"([{"op":"replace","path":"owner","value":"x"}])", "invalidPath"},
        {R"([{"op":"remove"}])", "noTarget"},
        {R"([{"op":"move","path":"members"}])", "invalidSyntax"},
        {R"([{"op":"add","path":"members","value":[{"value":")" + users[1] + R"(","type":"Group"}]}])", "invalidValue"},
    };
    for (const auto& [ops, type] : cases) {
        const auto r = patch(id, ops);
        BOOST_TEST(r.status == 400, ops);
        BOOST_TEST(json::parse(r.body).at("scimType").as_string() == type, ops);
    }
    // A user of another organisation cannot become a member here.
    BOOST_TEST((members(id) == std::set<std::string>{users[0]}));
}

BOOST_AUTO_TEST_SUITE_END()
