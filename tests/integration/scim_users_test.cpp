// SPDX-License-Identifier: AGPL-3.0-or-later
// SCIM /Users against the real binary, with the requests Okta and Entra ID really send. Test names
// cite the items of ../shared/INTEROP.md (O = Okta, E = Entra ID, R = RFC behaviour).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <map>
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

struct scim_fixture {
    gateway_process gw;
    std::string token;
    std::string base = "/scim/v2/acme";

    scim_fixture() {
        token = organization_with_scim_token(gw);
    }

    std::vector<std::pair<std::string, std::string>> headers(std::vector<std::pair<std::string, std::string>> extra = {}) {
        extra.emplace_back("Authorization", "Bearer " + token);
        extra.emplace_back("User-Agent", "Okta SCIM Client 1.0.0");  // O1
        return extra;
    }

    reply scim(verb v, const std::string& path, const std::string& body = "",
               std::vector<std::pair<std::string, std::string>> extra = {}) {
        return call(gw.port(), v, base + path, body, headers(std::move(extra)));
    }

    json::object create(const std::string& body) {
        const auto r = scim(verb::post, "/Users", body);
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return json::parse(r.body).as_object();
    }

    json::object okta_user(const std::string& user_name = "test.user@okta.local") {
        return create(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + user_name +
                      R"(","name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":")" +
                      user_name + R"(","type":"work"}],"displayName":"Test User","locale":"en-US",
                      "externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true})");
    }

    json::object patch(const std::string& id, const std::string& operations, int expected_status = 200) {
        const auto r = scim(verb::patch, "/Users/" + id,
                            std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":)" + operations + "}");
        BOOST_TEST_REQUIRE(r.status == expected_status, r.body);
        return json::parse(r.body).as_object();
    }
};

std::string id_of(const json::object& o) { return std::string(o.at("id").as_string()); }

json::object error_of(const reply& r) {
    BOOST_TEST(r.header("Content-Type") == "application/scim+json");
    auto e = json::parse(r.body).as_object();
    BOOST_TEST(e.at("schemas").at(0).as_string() == "urn:ietf:params:scim:api:messages:2.0:Error");
    BOOST_TEST(e.at("status").as_string() == std::to_string(r.status));  // a string (RFC 7644 §3.12)
    return e;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scim_users, scim_fixture)

BOOST_AUTO_TEST_CASE(O2_O3_E1_connection_test_and_existence_check_return_empty_list_responses) {
    for (const char* q : {"/Users?startIndex=1&count=2",
                          "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
                          "/Users?filter=userName+eq+%227a2b9ac1-8d4f-4a61-bd1a-000000000000%22"}) {
        const auto r = scim(verb::get, q);
        BOOST_TEST(r.status == 200, q);
        BOOST_TEST(r.header("Content-Type") == "application/scim+json");
        const auto body = json::parse(r.body);
        BOOST_TEST(body.at("schemas").at(0).as_string() == "urn:ietf:params:scim:api:messages:2.0:ListResponse");
        BOOST_TEST(body.at("totalResults").is_int64());  // integers, not strings (O5)
        BOOST_TEST(body.at("totalResults").as_int64() == 0);
        BOOST_TEST(body.at("Resources").as_array().empty());
    }
}

BOOST_AUTO_TEST_CASE(O4_create_returns_201_with_id_and_never_the_password) {
    const auto r = scim(verb::post, "/Users",
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
                            "name":{"givenName":"Test","familyName":"User"},"password":"1mz050nq","active":true,
                            "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}]})");
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    const auto u = json::parse(r.body).as_object();
    BOOST_TEST(id_of(u).size() == 36u);
    BOOST_TEST(r.header("Location") == base + "/Users/" + id_of(u));
    BOOST_TEST(r.header("ETag") == "W/\"1\"");
    BOOST_TEST(u.at("meta").at("version").as_string() == "W/\"1\"");
    BOOST_TEST(u.at("meta").at("resourceType").as_string() == "User");
    BOOST_TEST(r.body.find("password") == std::string::npos);
    BOOST_TEST(r.body.find("1mz050nq") == std::string::npos);
    BOOST_TEST(scim(verb::get, "/Users/" + id_of(u)).body.find("1mz050nq") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(R1_O3_duplicate_user_name_is_409_uniqueness_case_insensitively) {
    okta_user();
    const auto r = scim(verb::post, "/Users",
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"TEST.USER@okta.local"})");
    BOOST_TEST(r.status == 409);
    BOOST_TEST(error_of(r).at("scimType").as_string() == "uniqueness");
    // The existence check finds the user whatever the case (RFC 7643: userName caseExact=false).
    const auto found = json::parse(scim(verb::get, "/Users?filter=userName%20eq%20%22Test.User%40OKTA.local%22").body);
    BOOST_TEST(found.at("totalResults").as_int64() == 1);
    // Emails are never unique: another user may share one.
    const auto other = scim(verb::post, "/Users",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"other",
                                "emails":[{"value":"test.user@okta.local"}]})");
    BOOST_TEST(other.status == 201);
}

BOOST_AUTO_TEST_CASE(O5_R4_import_pages_are_stable_and_complete) {
    for (int i = 0; i < 25; ++i) okta_user("user" + std::to_string(i) + "@okta.local");
    std::set<std::string> seen;
    for (int start = 1; start <= 25; start += 10) {
        const auto page = json::parse(scim(verb::get, "/Users?startIndex=" + std::to_string(start) + "&count=10").body);
        BOOST_TEST(page.at("totalResults").as_int64() == 25);
        BOOST_TEST(page.at("startIndex").as_int64() == start);
        for (const auto& u : page.at("Resources").as_array()) seen.insert(std::string(u.at("id").as_string()));
    }
    BOOST_TEST(seen.size() == 25u);
    // Without paging parameters, server defaults apply (bitwarden/server#4034).
    const auto all = json::parse(scim(verb::get, "/Users").body);
    BOOST_TEST(all.at("itemsPerPage").as_int64() == 25);
    // count=0 returns the total only; a huge count is clamped, not refused.
    BOOST_TEST(json::parse(scim(verb::get, "/Users?count=0").body).at("Resources").as_array().empty());
    BOOST_TEST(scim(verb::get, "/Users?count=100000").status == 200);
    BOOST_TEST(scim(verb::get, "/Users?count=ten").status == 400);
}

BOOST_AUTO_TEST_CASE(cursor_paging_walks_everything_even_when_users_are_deleted_mid_walk) {
    std::vector<std::string> ids;
    for (int i = 0; i < 23; ++i) ids.push_back(id_of(okta_user("walk" + std::to_string(i) + "@okta.local")));
    std::set<std::string> seen;
    std::string cursor;  // empty: the first page (RFC 9865)
    int pages = 0;
    for (;;) {
        const auto r = scim(verb::get, "/Users?count=5&cursor=" + cursor);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        const auto page = json::parse(r.body);
        BOOST_TEST(!page.as_object().contains("startIndex"));
        for (const auto& u : page.at("Resources").as_array()) BOOST_TEST(seen.insert(std::string(u.at("id").as_string())).second);
        ++pages;
        if (pages == 2) {
            // Users already returned are deleted mid-walk: an offset walk would now skip users.
            for (int i = 0; i < 4; ++i) BOOST_TEST(scim(verb::delete_, "/Users/" + ids[static_cast<std::size_t>(i)]).status == 204);
        }
        if (!page.as_object().contains("nextCursor")) break;
        cursor = std::string(page.at("nextCursor").as_string());
        BOOST_TEST_REQUIRE(pages < 10);
    }
    BOOST_TEST(seen.size() == 23u);  // every user, none twice
    const auto bad = scim(verb::get, "/Users?cursor=not*a*cursor");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(json::parse(bad.body).at("scimType").as_string() == "invalidCursor");
    BOOST_TEST(scim(verb::get, "/Users?cursor=&startIndex=1").status == 400);
    BOOST_TEST(scim(verb::get, "/Users?cursor=&sortBy=userName").status == 400);
    const auto spc = json::parse(scim(verb::get, "/ServiceProviderConfig").body);
    BOOST_TEST(spc.at("pagination").at("cursor").as_bool());
}

BOOST_AUTO_TEST_CASE(O6_put_replaces_and_clears_omitted_attributes_without_flipping_active) {
    const auto u = okta_user();
    const auto r = scim(verb::put, "/Users/" + id_of(u),
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":")" + id_of(u) +
                            R"(","userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"Renamed"},
                            "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"groups":[],
                            "meta":{"resourceType":"User"}})");
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    const auto after = json::parse(r.body).as_object();
    BOOST_TEST(after.at("name").at("familyName").as_string() == "Renamed");
    BOOST_TEST(!after.contains("displayName"));  // omitted -> cleared
    BOOST_TEST(!after.contains("externalId"));
    BOOST_TEST(after.at("active").as_bool());    // omitted "active" does not deactivate
    BOOST_TEST(after.at("meta").at("version").as_string() == "W/\"2\"");
    // AIW apps deactivate with PUT active:false (O6).
    const auto off = scim(verb::put, "/Users/" + id_of(u),
                          R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local","active":false})");
    BOOST_TEST(json::parse(off.body).at("active").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(O7_R7_deactivate_with_a_pathless_patch_and_get_still_returns_the_user) {
    const auto u = okta_user();
    const auto off = patch(id_of(u), R"([{"op":"replace","value":{"active":false}}])");
    BOOST_TEST(off.at("active").as_bool() == false);
    const auto got = json::parse(scim(verb::get, "/Users/" + id_of(u)).body);
    BOOST_TEST(got.at("active").as_bool() == false);
    const auto on = patch(id_of(u), R"([{"op":"replace","value":{"active":true}}])");
    BOOST_TEST(on.at("active").as_bool() == true);
    // Filter on the state.
    patch(id_of(u), R"([{"op":"replace","value":{"active":false}}])");
    BOOST_TEST(json::parse(scim(verb::get, "/Users?filter=active%20eq%20false").body).at("totalResults").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(E3_E5_entra_create_and_the_three_disable_dialects) {
    const auto u = create(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee@testuser.com","active":true,
        "emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
        "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
        "roles":[]})");
    const auto id = id_of(u);
    BOOST_TEST(u.at("externalId").as_string() == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    BOOST_TEST(!u.contains("roles"));  // an empty list stores nothing
    // Without the compliance flag: capitalised op, "False" as a string.
    BOOST_TEST(patch(id, R"([{"op":"Replace","path":"active","value":"False"}])").at("active").as_bool() == false);
    BOOST_TEST(patch(id, R"([{"op":"Replace","path":"active","value":"True"}])").at("active").as_bool() == true);
    // With aadOptscim062020: a real boolean.
    BOOST_TEST(patch(id, R"([{"op":"replace","path":"active","value":false}])").at("active").as_bool() == false);
    BOOST_TEST(patch(id, R"([{"op":"replace","path":"active","value":true}])").at("active").as_bool() == true);
    // The use-scim document's form: no path, capitalised, boolean.
    BOOST_TEST(patch(id, R"([{"op":"Replace","value":false}])", 400).at("scimType").as_string() == "invalidValue");
    BOOST_TEST(patch(id, R"([{"op":"Replace","value":{"active":false}}])").at("active").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(E4_E6_E7_E14_entra_attribute_updates_in_both_dialects_with_colon_urn_paths) {
    auto u = okta_user();
    const auto id = id_of(u);
    // Without the flag: one op per attribute, filtered email path, URN-qualified extension path.
    u = patch(id, R"([
        {"op":"Replace","path":"emails[type eq \"work\"].value","value":"new.mail@okta.local"},
        {"op":"Replace","path":"name.familyName","value":"Smith"},
        {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"701984"},
        {"op":"Replace","path":"userName","value":"renamed@okta.local"},
        {"op":"Replace","path":"externalId","value":"ext-2"},
        {"op":"Replace","path":"displayName","value":"T. Smith"}])");
    BOOST_TEST(u.at("emails").at(0).at("value").as_string() == "new.mail@okta.local");
    BOOST_TEST(u.at("name").at("familyName").as_string() == "Smith");
    BOOST_TEST(u.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").at("employeeNumber").as_string() == "701984");
    BOOST_TEST(u.at("userName").as_string() == "renamed@okta.local");
    // With the flag: a no-path op whose value keys are paths (E6).
    u = patch(id, R"([{"op":"replace","value":{"displayName":"Tess Smith","name.givenName":"Tess",
        "name.familyName":"Smithers","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}}])");
    BOOST_TEST(u.at("displayName").as_string() == "Tess Smith");
    BOOST_TEST(u.at("name").at("givenName").as_string() == "Tess");
    BOOST_TEST(u.at("name").at("familyName").as_string() == "Smithers");
    BOOST_TEST(u.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").at("employeeNumber").as_string() == "42");
    BOOST_TEST(!u.contains("name.givenName"));  // a path, not a literal key
    // E7: "Add" where a value exists replaces it; "Add" of a typed email that does not exist creates it.
    u = patch(id, R"([{"op":"Add","path":"emails[type eq \"work\"].value","value":"changed@okta.local"},
                      {"op":"Add","path":"emails[type eq \"home\"].value","value":"home@example.com"},
                      {"op":"Add","path":"title","value":"Engineer"},{"op":"Add","path":"title","value":"Lead"}])");
    BOOST_TEST(u.at("emails").as_array().size() == 2u);
    BOOST_TEST(u.at("emails").at(0).at("value").as_string() == "changed@okta.local");
    BOOST_TEST(u.at("emails").at(1).at("type").as_string() == "home");
    BOOST_TEST(u.at("title").as_string() == "Lead");
}

BOOST_AUTO_TEST_CASE(E11_manager_as_a_bare_string_is_normalised) {
    const auto u = okta_user();
    const auto after = patch(id_of(u), R"([{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915-6090-4610-87a4-49d0f5b1bc1b"}])");
    BOOST_TEST(after.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").at("manager").at("value").as_string() ==
               "26118915-6090-4610-87a4-49d0f5b1bc1b");
}

BOOST_AUTO_TEST_CASE(E2_R3_queries_by_external_id_and_email_with_attribute_selection) {
    okta_user();
    const auto by_ext = json::parse(scim(verb::get, "/Users?filter=externalId%20eq%20%2200ujl29u0le5T6Aj10h7%22").body);
    BOOST_TEST(by_ext.at("totalResults").as_int64() == 1);
    // Entra's form (E2): not in RFC 7644's filter grammar, accepted as emails[type eq "work" and value eq ...].
    const auto by_mail = json::parse(scim(verb::get,
        "/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22TEST.USER%40okta.local%22").body);
    BOOST_TEST(by_mail.at("totalResults").as_int64() == 1);
    const auto no_mail = json::parse(scim(verb::get,
        "/Users?filter=emails%5Btype%20eq%20%22home%22%5D.value%20eq%20%22test.user%40okta.local%22").body);
    BOOST_TEST(no_mail.at("totalResults").as_int64() == 0);
    const auto ok = scim(verb::get, "/Users?filter=emails%5Btype%20eq%20%22work%22%20and%20value%20eq%20%22test.user%40okta.local%22%5D&attributes=userName");
    const auto body = json::parse(ok.body);
    BOOST_TEST(body.at("totalResults").as_int64() == 1);
    const auto& res = body.at("Resources").at(0).as_object();
    BOOST_TEST(res.contains("userName"));
    BOOST_TEST(res.contains("id"));  // always returned
    BOOST_TEST(!res.contains("emails"));
    const auto excluded = json::parse(scim(verb::get, "/Users?excludedAttributes=emails,name.givenName").body);
    const auto& e = excluded.at("Resources").at(0).as_object();
    BOOST_TEST(!e.contains("emails"));
    BOOST_TEST(!e.at("name").as_object().contains("givenName"));
    BOOST_TEST(e.at("name").as_object().contains("familyName"));
}

BOOST_AUTO_TEST_CASE(R2_unsupported_or_malformed_filters_are_400_invalid_filter) {
    okta_user();
    for (const char* q : {"/Users?filter=password%20eq%20%22x%22", "/Users?filter=userName%20eq",
                          "/Users?filter=userName%20regex%20%22.*%22", "/Users?filter=nosuch%20pr",
                          "/Users?filter=userName%20eq%20%22a%22%20and%20secret%20eq%20%22b%22"}) {
        const auto r = scim(verb::get, q);
        BOOST_TEST(r.status == 400, q);
        BOOST_TEST(error_of(r).at("scimType").as_string() == "invalidFilter", q);
    }
    const auto pos = error_of(scim(verb::get, "/Users?filter=userName%20eq%20bjensen"));
    BOOST_TEST(pos.at("detail").as_string().find("position 12") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unsortable_sort_by_is_invalid_value_and_a_bad_filter_beside_it_is_invalid_filter) {
    okta_user();
    const auto sort = scim(verb::get, "/Users?filter=userName%20pr&sortBy=nosuch");
    BOOST_TEST(sort.status == 400);
    BOOST_TEST(error_of(sort).at("scimType").as_string() == "invalidValue");
    BOOST_TEST(error_of(sort).at("detail").as_string().find("nosuch") != std::string::npos, sort.body);
    // Both wrong: the filter is named, so the admin fixes the part that decides which users are listed.
    const auto both = scim(verb::get, "/Users?filter=nosuch%20pr&sortBy=nosuch");
    BOOST_TEST(both.status == 400);
    BOOST_TEST(error_of(both).at("scimType").as_string() == "invalidFilter");
    BOOST_TEST(scim(verb::get, "/Users?filter=userName%20pr&sortBy=userName").status == 200);
}

BOOST_AUTO_TEST_CASE(search_endpoint_takes_the_query_in_the_body) {
    okta_user();
    okta_user("second@okta.local");
    const auto r = scim(verb::post, "/Users/.search",
                        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                            "filter":"userName sw \"second\"","attributes":["userName"],"startIndex":1,"count":10})");
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    const auto body = json::parse(r.body);
    BOOST_TEST(body.at("totalResults").as_int64() == 1);
    BOOST_TEST(body.at("Resources").at(0).at("userName").as_string() == "second@okta.local");
    BOOST_TEST(scim(verb::post, "/Users/.search", R"({"filter":"userName pr"})").status == 400);
}

BOOST_AUTO_TEST_CASE(R5_replaying_a_patch_leaves_state_unchanged) {
    const auto u = okta_user();
    const std::string ops = R"([{"op":"remove","path":"emails[type eq \"home\"]"},
                                {"op":"add","path":"phoneNumbers","value":[{"value":"+1 555 0100","type":"work"}]}])";
    const auto first = patch(id_of(u), ops);
    const auto second = patch(id_of(u), ops);
    BOOST_TEST(json::serialize(first.at("phoneNumbers")) == json::serialize(second.at("phoneNumbers")));
    BOOST_TEST(second.at("phoneNumbers").as_array().size() == 1u);
    BOOST_TEST(json::serialize(first.at("emails")) == json::serialize(second.at("emails")));
}

BOOST_AUTO_TEST_CASE(patch_is_atomic_and_names_the_failing_operation) {
    const auto u = okta_user();
    const auto r = scim(verb::patch, "/Users/" + id_of(u),
                        std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":[
                            {"op":"replace","path":"displayName","value":"Changed"},
                            {"op":"replace","path":"nosuchattribute","value":"x"}]})");
    BOOST_TEST(r.status == 400);
    const auto e = error_of(r);
    BOOST_TEST(e.at("scimType").as_string() == "invalidPath");
    BOOST_TEST(e.at("detail").as_string().find("Operations[1]") != std::string::npos);
    BOOST_TEST(json::parse(scim(verb::get, "/Users/" + id_of(u)).body).at("displayName").as_string() == "Test User");
    // A filter that matches nothing where a target is required.
    const auto nt = scim(verb::patch, "/Users/" + id_of(u),
                         std::string(R"({"schemas":[")") + patch_urn +
                             R"("],"Operations":[{"op":"replace","path":"emails[type eq \"other\"].display","value":"x"}]})");
    BOOST_TEST(error_of(nt).at("scimType").as_string() == "noTarget");
    const auto ro = scim(verb::patch, "/Users/" + id_of(u),
                         std::string(R"({"schemas":[")") + patch_urn + R"("],"Operations":[{"op":"replace","path":"id","value":"x"}]})");
    BOOST_TEST(error_of(ro).at("scimType").as_string() == "mutability");
}

BOOST_AUTO_TEST_CASE(etags_if_match_and_if_none_match) {
    const auto u = okta_user();
    const auto path = "/Users/" + id_of(u);
    const auto got = scim(verb::get, path);
    BOOST_TEST(got.header("ETag") == "W/\"1\"");
    BOOST_TEST(scim(verb::get, path, "", {{"If-None-Match", "W/\"1\""}}).status == 304);
    const std::string body = std::string(R"({"schemas":[")") + patch_urn +
                             R"("],"Operations":[{"op":"replace","path":"title","value":"x"}]})";
    BOOST_TEST(scim(verb::patch, path, body, {{"If-Match", "W/\"1\""}}).status == 200);
    const auto stale = scim(verb::patch, path, body, {{"If-Match", "W/\"1\""}});
    BOOST_TEST(stale.status == 412);
    BOOST_TEST(scim(verb::delete_, path, "", {{"If-Match", "W/\"1\""}}).status == 412);
    BOOST_TEST(scim(verb::delete_, path, "", {{"If-Match", "W/\"2\""}}).status == 204);
}

BOOST_AUTO_TEST_CASE(delete_removes_the_user_and_keeps_the_audit_trail) {
    const auto u = okta_user();
    BOOST_TEST(scim(verb::delete_, "/Users/" + id_of(u)).status == 204);
    const auto gone = scim(verb::get, "/Users/" + id_of(u));
    BOOST_TEST(gone.status == 404);
    error_of(gone);
    BOOST_TEST(scim(verb::delete_, "/Users/" + id_of(u)).status == 404);
    const auto audit = json::parse(call(gw.port(), verb::get, "/api/v1/organizations/acme/audit", "",
                                        {{"Authorization", "Bearer " + gw.admin_token()}})
                                       .body);
    bool deleted = false;
    for (const auto& rec : audit.at("records").as_array())
        if (rec.at("action").as_string() == "user.delete") {
            deleted = true;
            BOOST_TEST(rec.at("target").at("display").as_string() == "test.user@okta.local");
            BOOST_TEST(rec.at("actor").at("kind").as_string() == "scim_client");
            BOOST_TEST(rec.at("actor").at("display").as_string() == "idp");
        }
    BOOST_TEST(deleted);
}

BOOST_AUTO_TEST_CASE(bad_bodies_get_clear_400s_and_write_nothing) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "invalidSyntax"},
        {"{", "invalidSyntax"},
        {"[]", "invalidSyntax"},
        {R"({"userName":"x"})", "invalidSyntax"},                                                     // no schemas
        {R"({"schemas":["urn:example:unknown"],"userName":"x"})", "invalidValue"},
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]})", "invalidValue"},            // no userName
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42})", "invalidValue"},
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","active":"maybe"})", "invalidValue"},
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","emails":"a@b"})", "invalidSyntax"},
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","favoriteColor":"red"})", "invalidSyntax"},
        {R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]})", "invalidValue"},
    };
    for (const auto& [body, type] : cases) {
        const auto r = scim(verb::post, "/Users", body);
        BOOST_TEST(r.status == 400, body);
        BOOST_TEST(error_of(r).at("scimType").as_string() == type, body);
    }
    const std::string deep = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","addresses":)" +
                             std::string(50, '[') + std::string(50, ']') + "}";
    BOOST_TEST(scim(verb::post, "/Users", deep).status == 400);
    BOOST_TEST(json::parse(scim(verb::get, "/Users").body).at("totalResults").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(E12_tokens_are_checked_and_scoped_to_one_organization) {
    const auto u = okta_user();
    // No token, a wrong token, an admin token: 401 with WWW-Authenticate, in the SCIM error format.
    const auto none = call(gw.port(), verb::get, base + "/Users");
    BOOST_TEST(none.status == 401);
    BOOST_TEST(none.header("WWW-Authenticate").find("Bearer") == 0u);
    error_of(none);
    BOOST_TEST(call(gw.port(), verb::get, base + "/Users", "", {{"Authorization", "Bearer idg_scim_nope"}}).status == 401);
    BOOST_TEST(call(gw.port(), verb::get, base + "/Users", "", {{"Authorization", "Bearer " + gw.admin_token()}}).status ==
               401);
    // A token of another organisation sees 404 for this one, even for an id that exists here.
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"globex","name":"Globex"})", admin);
    const auto t = json::parse(call(gw.port(), verb::post, "/api/v1/organizations/globex/scim-tokens",
                                    R"({"name":"entra"})", admin).body);
    const std::string globex = "Bearer " + std::string(t.at("token").as_string());
    BOOST_TEST(call(gw.port(), verb::get, base + "/Users/" + id_of(u), "", {{"Authorization", globex}}).status == 404);
    BOOST_TEST(call(gw.port(), verb::get, base + "/Users", "", {{"Authorization", globex}}).status == 404);
    BOOST_TEST(json::parse(call(gw.port(), verb::get, "/scim/v2/globex/Users", "", {{"Authorization", globex}}).body)
                   .at("totalResults")
                   .as_int64() == 0);
    // Revoked tokens stop working at once.
    const auto list = json::parse(call(gw.port(), verb::get, "/api/v1/organizations/globex/scim-tokens", "", admin).body);
    const std::string token_id{list.at("tokens").at(0).at("id").as_string()};
    BOOST_TEST(list.at("tokens").at(0).as_object().contains("token") == false);  // never shown again
    // Discovery is answered on the I/O thread once the token is known: the same checks apply there.
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/globex/ServiceProviderConfig", "", {{"Authorization", globex}}).status == 200);
    BOOST_TEST(call(gw.port(), verb::get, base + "/ServiceProviderConfig", "", {{"Authorization", globex}}).status == 404);
    BOOST_TEST(call(gw.port(), verb::delete_, "/api/v1/organizations/globex/scim-tokens/" + token_id, "", admin).status == 204);
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/globex/Users", "", {{"Authorization", globex}}).status == 401);
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/globex/ServiceProviderConfig", "", {{"Authorization", globex}}).status == 401);
}

BOOST_AUTO_TEST_CASE(R8_discovery_endpoints_describe_what_is_supported) {
    const auto spc = json::parse(scim(verb::get, "/ServiceProviderConfig").body);
    BOOST_TEST(spc.at("patch").at("supported").as_bool());
    BOOST_TEST(spc.at("filter").at("supported").as_bool());
    BOOST_TEST(spc.at("filter").at("maxResults").as_int64() == 1000);
    BOOST_TEST(spc.at("etag").at("supported").as_bool());
    BOOST_TEST(spc.at("sort").at("supported").as_bool());
    BOOST_TEST(spc.at("bulk").at("supported").as_bool());
    BOOST_TEST(spc.at("bulk").at("maxOperations").as_int64() == 1000);
    BOOST_TEST(spc.at("bulk").at("maxPayloadSize").as_int64() == 1048576);
    BOOST_TEST(spc.at("authenticationSchemes").at(0).at("type").as_string() == "oauthbearertoken");
    const auto types = json::parse(scim(verb::get, "/ResourceTypes").body);
    BOOST_TEST(types.at("Resources").at(0).at("endpoint").as_string() == "/Users");
    BOOST_TEST(types.at("Resources").at(1).at("endpoint").as_string() == "/Groups");

    const auto schemas = json::parse(scim(verb::get, "/Schemas").body);
    BOOST_TEST(schemas.at("totalResults").as_int64() == 3);
    // E12: no nulls anywhere in /Schemas.
    std::function<bool(const json::value&)> has_null = [&](const json::value& v) {
        if (v.is_null()) return true;
        if (v.is_object())
            for (const auto& kv : v.as_object())
                if (has_null(kv.value())) return true;
        if (v.is_array())
            for (const auto& x : v.as_array())
                if (has_null(x)) return true;
        return false;
    };
    BOOST_TEST(!has_null(schemas));
    const auto user = json::parse(scim(verb::get, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").body);
    std::map<std::string, json::object> attrs;
    for (const auto& a : user.at("attributes").as_array())
        attrs[std::string(a.at("name").as_string())] = a.as_object();
    BOOST_TEST(attrs.at("userName").at("uniqueness").as_string() == "server");
    BOOST_TEST(attrs.at("userName").at("required").as_bool());
    BOOST_TEST(attrs.at("password").at("returned").as_string() == "never");
    BOOST_TEST(attrs.at("groups").at("mutability").as_string() == "readOnly");
    BOOST_TEST(attrs.at("emails").at("multiValued").as_bool());
    // What /Schemas says read-only, PATCH refuses to change.
    const auto u = okta_user();
    BOOST_TEST(patch(id_of(u), R"([{"op":"add","path":"groups","value":[{"value":"x"}]}])", 400).at("scimType").as_string() ==
               "mutability");
    BOOST_TEST(scim(verb::get, "/Schemas/urn:example:nope").status == 404);
}

BOOST_AUTO_TEST_CASE(R5_concurrent_patches_on_one_user_lose_no_update) {
    const auto u = okta_user();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const auto r = call(gw.port(), verb::patch, base + "/Users/" + id_of(u),
                                    std::string(R"({"schemas":[")") + patch_urn +
                                        R"("],"Operations":[{"op":"add","path":"phoneNumbers","value":[{"value":"+1 555 )" +
                                        std::to_string(t * 10 + i) + R"("}]}]})",
                                    headers());
                if (r.status == 200) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(ok.load() == 20);
    const auto after = json::parse(scim(verb::get, "/Users/" + id_of(u)).body);
    BOOST_TEST(after.at("phoneNumbers").as_array().size() == 20u);
}

BOOST_AUTO_TEST_SUITE_END()

// RFC 7643 §3.1: meta.location is the resource's URI, the same as the Location header of its creation
// (RFC 7644 §3.3). With server.public_url configured, every URL a SCIM client is given is absolute under
// it: locations, $ref of memberships, the locations Bulk reports, and the base URL an admin copies into
// the identity provider. (Without it they are paths, which §2.3.7 resolves against the SCIM base.)
BOOST_AUTO_TEST_CASE(R_resource_urls_are_absolute_under_the_configured_public_url) {
    gateway_process gw("  public_url: https://idgate.example.com/\n", "public-url");
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    BOOST_TEST_REQUIRE(call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                           .status == 201);
    const auto issued = call(gw.port(), verb::post, "/api/v1/organizations/acme/scim-tokens", R"({"name":"okta"})", admin);
    BOOST_TEST_REQUIRE(issued.status == 201, issued.body);
    const auto issued_json = json::parse(issued.body);
    const std::string public_base = "https://idgate.example.com/scim/v2/acme";
    BOOST_TEST(issued_json.at("scim_base_url").as_string() == public_base);
    const std::vector<std::pair<std::string, std::string>> auth{
        {"Authorization", "Bearer " + std::string(issued_json.at("token").as_string())}};
    const auto scim = [&](verb v, const std::string& path, const std::string& body = "") {
        return call(gw.port(), v, "/scim/v2/acme" + path, body, auth);
    };

    const auto created = scim(verb::post, "/Users",
                              R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com"})");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const auto user = json::parse(created.body).as_object();
    const auto user_id = std::string(user.at("id").as_string());
    BOOST_TEST(created.header("Location") == public_base + "/Users/" + user_id);
    BOOST_TEST(user.at("meta").at("location").as_string() == public_base + "/Users/" + user_id);
    // The location is the resource: a client that follows it (here: its path) reads the same user.
    const auto read = scim(verb::get, "/Users/" + user_id);
    BOOST_TEST_REQUIRE(read.status == 200, read.body);
    BOOST_TEST(json::parse(read.body).at("meta").at("location").as_string() == public_base + "/Users/" + user_id);

    const auto group = scim(verb::post, "/Groups",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Staff",
                                "members":[{"value":")" + user_id + R"("}]})");
    BOOST_TEST_REQUIRE(group.status == 201, group.body);
    const auto group_json = json::parse(group.body).as_object();
    const auto group_id = std::string(group_json.at("id").as_string());
    BOOST_TEST(group.header("Location") == public_base + "/Groups/" + group_id);
    BOOST_TEST(group_json.at("members").at(0).at("$ref").as_string() == public_base + "/Users/" + user_id);
    BOOST_TEST(json::parse(scim(verb::get, "/Users/" + user_id).body).at("groups").at(0).at("$ref").as_string() ==
               public_base + "/Groups/" + group_id);

    const auto listed = json::parse(scim(verb::get, "/Users?filter=userName%20eq%20%22ann@example.com%22").body);
    BOOST_TEST(listed.at("Resources").at(0).at("meta").at("location").as_string() == public_base + "/Users/" + user_id);
    BOOST_TEST(json::parse(scim(verb::get, "/ServiceProviderConfig").body).at("meta").at("location").as_string() ==
               public_base + "/ServiceProviderConfig");

    const auto bulk = scim(verb::post, "/Bulk",
                           R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
                               {"method":"POST","path":"/Users","bulkId":"b1","data":{"schemas":
                               ["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}}]})");
    BOOST_TEST_REQUIRE(bulk.status == 200, bulk.body);
    const auto bulk_location = std::string(json::parse(bulk.body).at("Operations").at(0).at("location").as_string());
    BOOST_TEST(bulk_location.rfind(public_base + "/Users/", 0) == 0u, bulk_location);
    BOOST_TEST(scim(verb::get, bulk_location.substr(public_base.size())).status == 200);
}
