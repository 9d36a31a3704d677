// SPDX-License-Identifier: AGPL-3.0-or-later
// The real binary over real sockets: routing, errors, limits, timeouts and the admin API.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"

using namespace idgate::test;
using http::verb;

namespace {

std::vector<std::pair<std::string, std::string>> bearer(const gateway_process& gw) {
    return {{"Authorization", "Bearer " + gw.admin_token()}};
}

boost::json::value json_of(const reply& r) { return boost::json::parse(r.body); }

std::string error_code_of(const reply& r) { return std::string(json_of(r).at("error").at("code").as_string()); }

// Sends raw bytes and returns what comes back until the server closes (or `timeout`).
std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::seconds timeout) {
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    s.expires_after(timeout);
    net::write(s, net::buffer(bytes));
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    for (;;) {
        const auto n = s.read_some(net::buffer(buf), ec);
        if (ec) break;
        out.append(buf, n);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(health_readiness_version_and_request_ids) {
    gateway_process gw;
    BOOST_TEST(!gw.admin_token().empty());
    const auto health = call(gw.port(), verb::get, "/healthz");
    BOOST_TEST(health.status == 200);
    BOOST_TEST(json_of(health).at("status").as_string() == "ok");
    BOOST_TEST(health.header("X-Request-Id").size() == 16u);
    const auto ready = call(gw.port(), verb::get, "/readyz");
    BOOST_TEST(ready.status == 200);
    BOOST_TEST(json_of(ready).at("schema_version").as_int64() >= 1);
    BOOST_TEST(json_of(call(gw.port(), verb::get, "/api/v1/version")).at("name").as_string() == "idgate");
    // A sane id from a proxy is carried through; a hostile one is replaced.
    BOOST_TEST(call(gw.port(), verb::get, "/healthz", "", {{"X-Request-Id", "proxy-123"}}).header("X-Request-Id") ==
               "proxy-123");
    BOOST_TEST(call(gw.port(), verb::get, "/healthz", "", {{"X-Request-Id", "a b\"c"}}).header("X-Request-Id") !=
               "a b\"c");
    // HEAD is answered like GET, without a body.
    http_client c(gw.port());
    const auto head = c.request(verb::head, "/healthz");
    BOOST_TEST(head.status == 200);
    BOOST_TEST(head.header("Content-Length") == "15");
    BOOST_TEST(head.body.empty());
    BOOST_TEST(c.request(verb::get, "/healthz").status == 200);  // the connection is still in step
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_methods_get_json_errors) {
    gateway_process gw;
    const auto missing = call(gw.port(), verb::get, "/nope");
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(error_code_of(missing) == "not_found");
    BOOST_TEST(json_of(missing).at("request_id").as_string() == missing.header("X-Request-Id"));
    const auto wrong = call(gw.port(), verb::delete_, "/healthz");
    BOOST_TEST(wrong.status == 405);
    BOOST_TEST(wrong.header("Allow") == "GET");
    const auto garbage = raw_exchange(gw.port(), "THIS IS NOT HTTP\r\n\r\n", std::chrono::seconds(5));
    BOOST_TEST(garbage.rfind("HTTP/1.1 400", 0) == 0u, garbage);
}

BOOST_AUTO_TEST_CASE(admin_api_requires_a_valid_bearer_token) {
    gateway_process gw;
    const auto none = call(gw.port(), verb::get, "/api/v1/organizations");
    BOOST_TEST(none.status == 401);
    BOOST_TEST(none.header("WWW-Authenticate") == "Bearer realm=\"idgate\"");
    const auto wrong =
        call(gw.port(), verb::get, "/api/v1/organizations", "", {{"Authorization", "Bearer idg_adm_wrong"}});
    BOOST_TEST(wrong.status == 401);
    BOOST_TEST(wrong.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos);
    const auto basic = call(gw.port(), verb::get, "/api/v1/organizations", "", {{"Authorization", "Basic eDp5"}});
    BOOST_TEST(basic.status == 401);
    const auto ok = call(gw.port(), verb::get, "/api/v1/organizations", "", bearer(gw));
    BOOST_TEST(ok.status == 200);
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    BOOST_TEST(call(gw.port(), verb::get, "/api/v1/organizations", "",
                    {{"Authorization", "bearer " + gw.admin_token()}})
                   .status == 200);
}

BOOST_AUTO_TEST_CASE(organizations_are_created_once_audited_and_fed) {
    gateway_process gw;
    const auto created = call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})",
                              bearer(gw));
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const auto id = std::string(json_of(created).at("id").as_string());
    BOOST_TEST(created.header("Location") == "/api/v1/organizations/" + id);
    BOOST_TEST(call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Again"})", bearer(gw))
                   .status == 409);
    BOOST_TEST(json_of(call(gw.port(), verb::get, "/api/v1/organizations/acme", "", bearer(gw))).at("id").as_string() ==
               id);
    BOOST_TEST(call(gw.port(), verb::get, "/api/v1/organizations/" + id, "", bearer(gw)).status == 200);
    BOOST_TEST(call(gw.port(), verb::get, "/api/v1/organizations/unknown", "", bearer(gw)).status == 404);

    const auto audit = json_of(call(gw.port(), verb::get, "/api/v1/organizations/acme/audit", "", bearer(gw)));
    BOOST_REQUIRE(audit.at("records").as_array().size() == 1u);
    const auto& record = audit.at("records").at(0);
    BOOST_TEST(record.at("action").as_string() == "organization.create");
    BOOST_TEST(record.at("actor").at("display").as_string() == "bootstrap");
    BOOST_TEST(record.at("actor").at("client_address").as_string() == "127.0.0.1");

    const auto feed = json_of(call(gw.port(), verb::get, "/api/v1/organizations/acme/changes?after=0", "", bearer(gw)));
    BOOST_REQUIRE(feed.at("events").as_array().size() == 1u);
    BOOST_TEST(feed.at("events").at(0).at("type").as_string() == "organization.created");
    BOOST_TEST(feed.at("next").as_int64() == 1);
    BOOST_TEST(call(gw.port(), verb::get, "/api/v1/organizations/acme/changes?after=x", "", bearer(gw)).status == 400);
}

BOOST_AUTO_TEST_CASE(bad_input_gets_a_clear_400_and_writes_nothing) {
    gateway_process gw;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "invalid_json"},
        {"{\"slug\":", "invalid_json"},
        {"[1,2]", "invalid_json"},
        {std::string(40, '[') + std::string(40, ']'), "invalid_json"},  // deeper than json_max_depth
        {R"({"slug":"acme","name":"Acme","color":"red"})", "invalid_field"},
        {R"({"slug":"Not A Slug","name":"Acme"})", "invalid_field"},
        {R"({"slug":42,"name":"Acme"})", "invalid_field"},
        {R"({"slug":"acme"})", "invalid_field"},
    };
    for (const auto& [body, code] : cases) {
        const auto r = call(gw.port(), verb::post, "/api/v1/organizations", body, bearer(gw));
        BOOST_TEST(r.status == 400, body);
        BOOST_TEST(error_code_of(r) == code, body);
    }
    const auto list = json_of(call(gw.port(), verb::get, "/api/v1/organizations", "", bearer(gw)));
    BOOST_TEST(list.at("organizations").as_array().empty());
}

BOOST_AUTO_TEST_CASE(an_oversized_body_gets_413_before_it_is_read) {
    gateway_process gw;
    const std::string big = R"({"slug":"big","name":")" + std::string(70 * 1024, 'x') + "\"}";
    const auto r = call(gw.port(), verb::post, "/api/v1/organizations", big, bearer(gw));
    BOOST_TEST(r.status == 413);
    BOOST_TEST(error_code_of(r) == "body_too_large");
    BOOST_TEST(json_of(r).at("error").at("message").as_string().find("65536") != std::string::npos);
    // Chunked bodies have no Content-Length up front: the limit still applies while reading.
    std::string chunked = "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + gw.admin_token() +
                          "\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n";
    for (int i = 0; i < 80; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    const auto raw = raw_exchange(gw.port(), chunked, std::chrono::seconds(10));
    BOOST_TEST(raw.rfind("HTTP/1.1 413", 0) == 0u, raw.substr(0, 200));
    BOOST_TEST(json_of(call(gw.port(), verb::get, "/api/v1/organizations", "", bearer(gw)))
                   .at("organizations")
                   .as_array()
                   .empty());
}

BOOST_AUTO_TEST_CASE(oversized_headers_get_431) {
    gateway_process gw("  limits: {header_bytes: 2048}\n");
    const auto r = call(gw.port(), verb::get, "/healthz", "", {{"X-Filler", std::string(4096, 'a')}});
    BOOST_TEST(r.status == 431);
}

BOOST_AUTO_TEST_CASE(a_slow_header_client_is_disconnected) {
    gateway_process gw("  timeouts: {header_seconds: 1}\n");
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), gw.port()));
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    std::size_t sent = 0;
    // One byte every 200 ms would take ~14 s to send the head; the server must cut us off at ~1 s.
    for (; sent < request.size(); ++sent) {
        boost::system::error_code ec;
        net::write(s.socket(), net::buffer(&request[sent], 1), ec);
        if (ec) {
            closed = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (s.socket().available(ec) > 0 || ec) {
            closed = true;
            break;
        }
        // A closed peer shows up as a readable EOF.
        s.socket().non_blocking(true);
        char c;
        s.socket().read_some(net::buffer(&c, 1), ec);
        s.socket().non_blocking(false);
        if (ec && ec != net::error::would_block) {
            closed = true;
            break;
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    BOOST_TEST(closed);
    BOOST_TEST(sent < request.size());
    BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count() < 5);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_and_metrics_count_them) {
    gateway_process gw;
    http_client c(gw.port());
    for (int i = 0; i < 20; ++i) BOOST_TEST(c.request(verb::get, "/healthz").status == 200);
    c.request(verb::get, "/nope");
    const auto m = call(gw.port(), verb::get, "/metrics");
    BOOST_TEST(m.status == 200);
    BOOST_TEST(m.header("Content-Type").find("text/plain") == 0u);
    BOOST_TEST(m.body.find("idgate_http_requests_total{route=\"GET /healthz\",status=\"200\"} 20\n") !=
               std::string::npos);
    BOOST_TEST(m.body.find("idgate_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n") != std::string::npos);
    BOOST_TEST(m.body.find("idgate_db_pool_connections{state=\"in_use\"}") != std::string::npos);
    BOOST_TEST(m.body.find("idgate_blocking_queue_depth") != std::string::npos);
    // Group commit is reported (the bootstrap token was written by one): a count, not a placeholder.
    const auto commits = m.body.find("\nidgate_db_group_commits_total ");
    BOOST_TEST_REQUIRE(commits != std::string::npos);
    BOOST_TEST(std::stoll(m.body.substr(commits + 31)) >= 1);
    // The scrape itself is the one request in flight while the text is rendered.
    BOOST_TEST(m.body.find("idgate_http_requests_in_flight 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_refused) {
    gateway_process gw("  max_connections: 2\n");
    http_client a(gw.port()), b(gw.port());
    BOOST_TEST(a.request(verb::get, "/healthz").status == 200);
    BOOST_TEST(b.request(verb::get, "/healthz").status == 200);
    BOOST_CHECK_THROW(call(gw.port(), verb::get, "/healthz"), boost::system::system_error);
    BOOST_TEST(a.request(verb::get, "/healthz").status == 200);  // the first two still work
}

BOOST_AUTO_TEST_CASE(access_log_is_json_lines_without_secrets) {
    gateway_process gw;
    call(gw.port(), verb::get, "/api/v1/organizations?secret=querystring", "", bearer(gw));
    call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"logged","name":"Body Secret"})", bearer(gw));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the log flushes every ~100 ms
    std::ifstream in(gw.log_path());
    std::string line, all;
    int access_lines = 0;
    while (std::getline(in, line)) {
        all += line + "\n";
        BOOST_CHECK_NO_THROW(boost::json::parse(line));
        if (line.find("\"msg\":\"access\"") != std::string::npos) ++access_lines;
    }
    BOOST_TEST(access_lines >= 2);
    BOOST_TEST(all.find(gw.admin_token()) == std::string::npos);
    BOOST_TEST(all.find("querystring") == std::string::npos);
    BOOST_TEST(all.find("Body Secret") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
