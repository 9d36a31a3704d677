// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What every SCIM integration test starts with: an organisation and a SCIM token for it, created
// through the admin API of the running gateway.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "gateway_process.hpp"
#include "http_client.hpp"

namespace idgate::test {

// Creates organisation `slug` and returns a fresh SCIM token for it.
inline std::string organization_with_scim_token(gateway_process& gw, const std::string& slug = "acme") {
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    const auto org = call(gw.port(), http::verb::post, "/api/v1/organizations",
                          R"({"slug":")" + slug + R"(","name":")" + slug + R"("})", admin);
    BOOST_TEST_REQUIRE(org.status == 201, org.body);
    const auto token = call(gw.port(), http::verb::post, "/api/v1/organizations/" + slug + "/scim-tokens",
                            R"({"name":"idp"})", admin);
    BOOST_TEST_REQUIRE(token.status == 201, token.body);
    return std::string(boost::json::parse(token.body).at("token").as_string());
}

}  // namespace idgate::test
