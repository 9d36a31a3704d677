// SPDX-License-Identifier: AGPL-3.0-or-later
// SCIM /Bulk (RFC 7644 §3.7) against the real binary.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

struct bulk_fixture {
    gateway_process gw;
    std::string token;

    bulk_fixture() {
        token = organization_with_scim_token(gw);
    }

    reply bulk(const std::string& body) {
        return call(gw.port(), verb::post, "/scim/v2/acme/Bulk", body, {{"Authorization", "Bearer " + token}});
    }
    reply get(const std::string& path) {
        return call(gw.port(), verb::get, "/scim/v2/acme" + path, "", {{"Authorization", "Bearer " + token}});
    }
};

const std::string request_urn = R"("schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"])";

std::string user_op(const std::string& bulk_id, const std::string& user_name) {
    return R"({"method":"POST","path":"/Users","bulkId":")" + bulk_id +
           R"(","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + user_name + R"("}})";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scim_bulk, bulk_fixture)

BOOST_AUTO_TEST_CASE(a_group_references_users_created_earlier_in_the_request) {
    const auto r = bulk("{" + request_urn + R"(,"Operations":[)" + user_op("u1", "alice") + "," + user_op("u2", "bob") +
                        R"(,{"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
                            "displayName":"Team","members":[{"value":"bulkId:u1"},{"value":"bulkId:u2"}]}},
                           {"method":"PATCH","path":"/Users/bulkId:u2","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations":[{"op":"replace","path":"title","value":"Lead"}]}}]})");
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    const auto body = json::parse(r.body);
    BOOST_TEST(body.at("schemas").at(0).as_string() == "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    const auto& ops = body.at("Operations").as_array();
    BOOST_REQUIRE(ops.size() == 4u);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(ops[i].at("status").as_string() == "201");
        BOOST_TEST(ops[i].at("location").as_string().find("/scim/v2/acme/") == 0u);
    }
    BOOST_TEST(ops[3].at("status").as_string() == "200");
    const auto group_location = std::string(ops[2].at("location").as_string());
    const auto group = json::parse(get(group_location.substr(std::string("/scim/v2/acme").size())).body);
    BOOST_TEST(group.at("members").as_array().size() == 2u);
    const auto bob = json::parse(get("/Users?filter=userName%20eq%20%22bob%22").body);
    BOOST_TEST(bob.at("Resources").at(0).at("title").as_string() == "Lead");
}

BOOST_AUTO_TEST_CASE(failures_are_reported_per_operation_and_fail_on_errors_stops) {
    const auto r = bulk("{" + request_urn + R"(,"failOnErrors":2,"Operations":[)" + user_op("a", "carol") + "," +
                        user_op("b", "carol") + R"(,{"method":"DELETE","path":"/Users/bulkId:nope"},)" +
                        user_op("c", "dave") + "]}");
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    const auto parsed = json::parse(r.body);
    const auto& ops = parsed.at("Operations").as_array();
    BOOST_REQUIRE(ops.size() == 3u);  // stopped after the second failure
    BOOST_TEST(ops[0].at("status").as_string() == "201");
    BOOST_TEST(ops[1].at("status").as_string() == "409");
    BOOST_TEST(ops[1].at("response").at("scimType").as_string() == "uniqueness");
    BOOST_TEST(ops[2].at("status").as_string() == "409");
    BOOST_TEST(json::parse(get("/Users?filter=userName%20eq%20%22dave%22").body).at("totalResults").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(limits_and_malformed_requests) {
    std::string many = "{" + request_urn + R"(,"Operations":[)";
    for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + R"({"method":"DELETE","path":"/Users/x"})";
    many += "]}";
    const auto too_many = bulk(many);
    BOOST_TEST(too_many.status == 413);
    BOOST_TEST(json::parse(too_many.body).at("status").as_string() == "413");
    const auto too_big = bulk("{" + request_urn + R"(,"Operations":[],"pad":")" + std::string(1100 * 1024, 'x') + "\"}");
    BOOST_TEST(too_big.status == 413);
    BOOST_TEST(bulk(R"({"Operations":[]})").status == 400);
    const auto bad = bulk("{" + request_urn + R"(,"Operations":[{"method":"GET","path":"/Users/x"},{"method":"POST","path":"/Users"},
        {"method":"POST","path":"/Widgets","bulkId":"w","data":{}}]})");
    BOOST_TEST_REQUIRE(bad.status == 200, bad.body);
    const auto results = json::parse(bad.body);
    BOOST_TEST(results.at("Operations").as_array().size() == 3u);
    for (const auto& op : results.at("Operations").as_array()) BOOST_TEST(op.at("status").as_string() == "400");
}

BOOST_AUTO_TEST_SUITE_END()
