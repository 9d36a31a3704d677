// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "core/json_body.hpp"
#include "gateway/router.hpp"

using namespace idgate;
using namespace idgate::gateway;

namespace {
core::response ok(core::request&) { return core::response::json(200, "{}"); }
}  // namespace

BOOST_AUTO_TEST_SUITE(routing)

BOOST_AUTO_TEST_CASE(matches_templates_and_extracts_parameters) {
    router r;
    r.add(core::method::get, "/api/v1/organizations", {}, ok);
    r.add(core::method::get, "/api/v1/organizations/{org}", {}, ok);
    r.add(core::method::get, "/api/v1/organizations/{org}/audit", {}, ok);
    auto m = r.find(core::method::get, "/api/v1/organizations/acme/audit");
    BOOST_REQUIRE(m.found);
    BOOST_TEST(m.found->pattern == "/api/v1/organizations/{org}/audit");
    BOOST_REQUIRE(m.params.size() == 1u);
    BOOST_TEST(m.params[0].first == "org");
    BOOST_TEST(m.params[0].second == "acme");
    BOOST_TEST(r.find(core::method::get, "/api/v1/organizations/").found->pattern == "/api/v1/organizations");
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_and_wrong_method_is_405_with_allow) {
    router r;
    r.add(core::method::get, "/things", {}, ok);
    r.add(core::method::post, "/things", {}, ok);
    BOOST_TEST(r.find(core::method::get, "/nothing").status == 404);
    auto m = r.find(core::method::del, "/things");
    BOOST_TEST(!m.found);
    BOOST_TEST(m.status == 405);
    BOOST_TEST(m.allow == "GET, POST");
    BOOST_TEST(r.find(core::method::head, "/things").found != nullptr);  // HEAD is served by GET
}

BOOST_AUTO_TEST_CASE(dispatch_authenticates_before_the_handler) {
    router r;
    bool handler_ran = false;
    r.add(core::method::get, "/secret", {auth_policy::instance_admin}, [&](core::request&) {
        handler_ran = true;
        return core::response::json(200, "{}");
    });
    r.set_authenticator([](const core::request&, auth_policy) -> core::principal {
        throw core::http_error(401, "unauthorized", "no token").with_header("WWW-Authenticate", "Bearer");
    });
    core::request req;
    req.request_id = "rid";
    const auto res = r.dispatch(*r.find(core::method::get, "/secret").found, req);
    BOOST_TEST(res.status == 401);
    BOOST_TEST(!handler_ran);
    BOOST_REQUIRE(res.headers.size() == 1u);
    BOOST_TEST(res.headers[0].first == "WWW-Authenticate");
}

// io_thread_when_authenticated: inline only when the caller is known without blocking; otherwise the
// request goes to the blocking pool (nullopt), and a refusal known at once is rendered at once.
BOOST_AUTO_TEST_CASE(dispatch_without_blocking_runs_only_with_a_caller_known_at_once) {
    router r;
    int handler_runs = 0;
    r.add(core::method::get, "/discovery", {auth_policy::scim_client, error_style::scim, execution::io_thread_when_authenticated},
          [&](core::request& q) {
              ++handler_runs;
              return core::response::json(200, "{\"org\":\"" + q.caller.organization_id + "\"}");
          });
    std::string known;  // what the quick authenticator can answer
    r.set_authenticator([](const core::request&, auth_policy) -> core::principal { return {}; },
                        [&](const core::request& q, auth_policy) -> std::optional<core::principal> {
                            const auto h = q.header("authorization");
                            if (!h) throw core::http_error(401, "unauthorized", "no token");
                            if (*h != known) return std::nullopt;
                            core::principal p;
                            p.organization_id = "acme";
                            return p;
                        });
    const auto& route = *r.find(core::method::get, "/discovery").found;
    core::request req;
    req.request_id = "rid";
    req.headers.emplace_back("authorization", "Bearer cached");
    BOOST_TEST(!r.dispatch_without_blocking(route, req).has_value(), "unknown here: to the blocking pool");
    BOOST_TEST(handler_runs == 0);
    known = "Bearer cached";
    const auto res = r.dispatch_without_blocking(route, req);
    BOOST_REQUIRE(res.has_value());
    BOOST_TEST(res->body == "{\"org\":\"acme\"}");
    BOOST_TEST(handler_runs == 1);
    core::request anonymous;
    anonymous.request_id = "rid";
    const auto refused = r.dispatch_without_blocking(route, anonymous);
    BOOST_REQUIRE(refused.has_value());
    BOOST_TEST(refused->status == 401);
    BOOST_TEST(refused->content_type == "application/scim+json");
    BOOST_TEST(handler_runs == 1);
}

BOOST_AUTO_TEST_CASE(json_errors_name_code_message_and_request_id) {
    const auto res = render_error(core::http_error(409, "conflict", "taken"), error_style::json, "abc");
    const auto body = boost::json::parse(res.body);
    BOOST_TEST(res.status == 409);
    BOOST_TEST(res.content_type == "application/json");
    BOOST_TEST(body.at("error").at("code").as_string() == "conflict");
    BOOST_TEST(body.at("error").at("message").as_string() == "taken");
    BOOST_TEST(body.at("request_id").as_string() == "abc");
}

BOOST_AUTO_TEST_CASE(scim_errors_follow_rfc7644_section_3_12) {
    const auto res = render_error(core::http_error(400, "invalid_filter", "bad filter").with_scim_type("invalidFilter"),
                                  error_style::scim, "abc");
    const auto body = boost::json::parse(res.body);
    BOOST_TEST(res.content_type == "application/scim+json");
    BOOST_TEST(body.at("schemas").at(0).as_string() == "urn:ietf:params:scim:api:messages:2.0:Error");
    BOOST_TEST(body.at("status").as_string() == "400");  // a string, per the RFC
    BOOST_TEST(body.at("scimType").as_string() == "invalidFilter");
    BOOST_TEST(body.at("detail").as_string() == "bad filter");
}

BOOST_AUTO_TEST_CASE(unexpected_exceptions_become_500_without_their_text) {
    router r;
    r.add(core::method::get, "/boom", {}, [](core::request&) -> core::response {
        throw std::runtime_error("secret internal detail");
    });
    core::request req;
    req.request_id = "rid";
    const auto res = r.dispatch(*r.find(core::method::get, "/boom").found, req);
    BOOST_TEST(res.status == 500);
    BOOST_TEST(res.body.find("secret internal detail") == std::string::npos);
    BOOST_TEST(res.body.find("rid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_body_reader_limits_depth_and_rejects_garbage) {
    core::request req;
    req.json_max_depth = 4;
    req.body = "[[[[[1]]]]]";
    try {
        core::parse_json_body(req);
        BOOST_FAIL("expected too-deep error");
    } catch (const core::http_error& e) {
        BOOST_TEST(e.status() == 400);
        BOOST_TEST(e.scim_type() == "invalidSyntax");
        BOOST_TEST(std::string(e.detail()).find("deeper than 4") != std::string::npos);
    }
    req.body = "{\"a\":";
    BOOST_CHECK_THROW(core::parse_json_body(req), core::http_error);
    req.body = "[1]";
    BOOST_CHECK_THROW(core::parse_json_object_body(req), core::http_error);
    req.body = "{\"a\":[1,2]}";
    BOOST_TEST(core::parse_json_object_body(req).at("a").as_array().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
