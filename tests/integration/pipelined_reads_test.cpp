// SPDX-License-Identifier: AGPL-3.0-or-later
// One-user SCIM reads through the pipelined PostgreSQL connections (store/user_reader.hpp), against the
// real binary: the same answers as the blocking path, under concurrency, and through the loss of those
// connections. PostgreSQL only.
#include <libpq-fe.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "postgres_required.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

struct pipelined_fixture {
    gateway_process gw;
    std::string token = organization_with_scim_token(gw);
    std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};

    reply get(const std::string& path, std::vector<std::pair<std::string, std::string>> extra = {}) {
        extra.insert(extra.end(), auth.begin(), auth.end());
        return call(gw.port(), verb::get, "/scim/v2/acme" + path, "", extra);
    }
    reply post(const std::string& path, const std::string& body) {
        return call(gw.port(), verb::post, "/scim/v2/acme" + path, body, auth);
    }

    std::string create_user(int i) {
        const auto n = std::to_string(i);
        const auto r = post("/Users", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
                                      R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],)"
                                      R"("userName":"Person.)" + n + R"(@Example.com","externalId":"ext-)" + n +
                                          R"(","name":{"givenName":"Given","familyName":"Family)" + n + R"("},)"
                                      R"("emails":[{"value":"p)" + n + R"(@example.com","type":"work","primary":true}],)"
                                      R"("phoneNumbers":[{"value":"+1 555 01)" + n + R"(","type":"mobile"}],)"
                                      R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":")" +
                                          n + R"("}})");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }

    // idgate_pipelined_reads_total{outcome="..."} and idgate_pipelined_read_connections from /metrics.
    long long metric(const std::string& line_start) {
        const auto r = call(gw.port(), verb::get, "/metrics");
        const auto at = r.body.find("\n" + line_start + " ");
        if (at == std::string::npos) return -1;
        return std::stoll(r.body.substr(at + line_start.size() + 2));
    }
    long long answered() { return metric("idgate_pipelined_reads_total{outcome=\"answered\"}"); }
    long long fallbacks() { return metric("idgate_pipelined_reads_total{outcome=\"fallback\"}"); }
    long long connections() { return metric("idgate_pipelined_read_connections"); }

    void wait_for_connections(long long n) {
        for (int i = 0; i < 200 && connections() != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        BOOST_TEST_REQUIRE(connections() == n);
    }

    // The gateway's own database (its config names it), for pg_stat_activity.
    std::string database() {
        std::ifstream in(gw.config_path());
        const std::string config((std::istreambuf_iterator<char>(in)), {});
        // The last dbname= wins in a libpq connection string (the admin string before it names its own).
        const std::regex dbname("dbname=([A-Za-z0-9_]+)");
        std::string name;
        for (auto it = std::sregex_iterator(config.begin(), config.end(), dbname); it != std::sregex_iterator(); ++it)
            name = (*it)[1];
        BOOST_REQUIRE(!name.empty());
        return name;
    }
};

void admin_sql(const std::string& sql) {
    PGconn* conn = PQconnectdb(postgres_admin_connection().c_str());
    BOOST_REQUIRE_MESSAGE(PQstatus(conn) == CONNECTION_OK, PQerrorMessage(conn));
    PGresult* r = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string error = PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    BOOST_REQUIRE_MESSAGE(ok, sql << ": " << error);
}

json::value body_of(const reply& r) { return json::parse(r.body); }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pipelined_reads, pipelined_fixture)

BOOST_AUTO_TEST_CASE(one_user_reads_answer_exactly_what_the_blocking_path_answers) {
    wait_for_connections(2);
    std::vector<std::string> ids;
    for (int i = 0; i < 12; ++i) ids.push_back(create_user(i));
    const auto group = post("/Groups", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)"
                                       R"("displayName":"Admins","members":[{"value":")" + ids[2] + R"("}]})");
    BOOST_TEST_REQUIRE(group.status == 201, group.body);
    get("/Users/" + ids[0]);  // the token is in the cache from here on: the reads below can be pipelined
    const auto before = answered();

    for (std::size_t i = 0; i < ids.size(); ++i) {
        // GET /Users/{id} against the same user through a list filter the pipelined path does not take.
        const auto one = get("/Users/" + ids[i]);
        BOOST_TEST_REQUIRE(one.status == 200, one.body);
        const auto listed = get("/Users?filter=id%20eq%20%22" + ids[i] + "%22");
        BOOST_TEST_REQUIRE(listed.status == 200, listed.body);
        BOOST_TEST(json::serialize(body_of(one)) == json::serialize(body_of(listed).at("Resources").at(0)));
        BOOST_TEST(one.header("ETag") == std::string(body_of(one).at("meta").at("version").as_string()));
        // The existence check (userName in another case) against the same query by POST /.search.
        const std::string filter = "userName eq \\\"PERSON." + std::to_string(i) + "@example.COM\\\"";
        const auto checked = get("/Users?filter=userName%20eq%20%22PERSON." + std::to_string(i) + "%40example.COM%22");
        const auto searched = post("/Users/.search", R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],)"
                                                     R"("filter":")" + filter + R"("})");
        BOOST_TEST_REQUIRE(checked.status == 200, checked.body);
        BOOST_TEST_REQUIRE(searched.status == 200, searched.body);
        BOOST_TEST(checked.body == searched.body);
        BOOST_TEST(body_of(checked).at("totalResults").as_int64() == 1);
    }
    BOOST_TEST(json::serialize(body_of(get("/Users/" + ids[2])).at("groups").at(0).at("display")) == "\"Admins\"");
    BOOST_TEST(answered() - before == static_cast<long long>(2 * ids.size() + 1));
    BOOST_TEST(fallbacks() == 0);
}

BOOST_AUTO_TEST_CASE(paging_projection_conditional_and_missing_reads_behave_as_specified) {
    wait_for_connections(2);
    const auto id = create_user(1);
    get("/Users/" + id);
    const auto before = answered();
    const std::string by_name = "/Users?filter=userName%20eq%20%22person.1%40example.com%22";
    // RFC 7644 §3.4.2.4: a window past the one match still counts it; count=0 gives the total only.
    const auto past = body_of(get(by_name + "&startIndex=2"));
    BOOST_TEST(past.at("totalResults").as_int64() == 1);
    BOOST_TEST(past.at("Resources").as_array().empty());
    const auto count_only = body_of(get(by_name + "&count=0"));
    BOOST_TEST(count_only.at("totalResults").as_int64() == 1);
    BOOST_TEST(count_only.at("Resources").as_array().empty());
    const auto none = body_of(get("/Users?filter=userName%20eq%20%22nobody%40example.com%22"));
    BOOST_TEST(none.at("totalResults").as_int64() == 0);
    // RFC 9865: the first page of cursor paging is a list without startIndex, and one match has no next page.
    const auto first_page = body_of(get(by_name + "&cursor=&count=1"));
    BOOST_TEST(first_page.at("totalResults").as_int64() == 1);
    BOOST_TEST(first_page.at("Resources").as_array().size() == 1u);
    BOOST_TEST(!first_page.as_object().contains("startIndex"));
    BOOST_TEST(!first_page.as_object().contains("nextCursor"));
    // attributes / excludedAttributes (R3).
    const auto slim = body_of(get("/Users/" + id + "?attributes=userName"));
    BOOST_TEST(slim.as_object().contains("userName"));
    BOOST_TEST(!slim.as_object().contains("emails"));
    BOOST_TEST(slim.as_object().contains("id"));  // returned always (RFC 7643 §7)
    const auto no_emails = body_of(get(by_name + "&excludedAttributes=emails"));
    BOOST_TEST(!no_emails.at("Resources").at(0).as_object().contains("emails"));
    // If-None-Match with the current version: 304 (RFC 7644 §3.14).
    BOOST_TEST(get("/Users/" + id, {{"If-None-Match", "W/\"1\""}}).status == 304);
    BOOST_TEST(get("/Users/" + id, {{"If-None-Match", "W/\"9\""}}).status == 200);
    // Unknown: the SCIM 404.
    const auto missing = get("/Users/00000000-0000-0000-0000-000000000000");
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(missing.header("Content-Type") == "application/scim+json");
    BOOST_TEST(body_of(missing).at("status").as_string() == "404");
    BOOST_TEST(answered() - before == 9);
    // Bad requests are refused before any read: a malformed filter, a bad startIndex.
    BOOST_TEST(get("/Users?filter=userName%20eq").status == 400);
    BOOST_TEST(get(by_name + "&sortOrder=sideways").status == 400);
    BOOST_TEST(answered() - before == 9);
}

BOOST_AUTO_TEST_CASE(another_organizations_users_stay_invisible) {
    wait_for_connections(2);
    const auto id = create_user(1);
    const auto other = organization_with_scim_token(gw, "globex");
    const std::vector<std::pair<std::string, std::string>> as_other{{"Authorization", "Bearer " + other}};
    call(gw.port(), verb::get, "/scim/v2/globex/Users/" + id, "", as_other);  // cache the token
    const auto before = answered();
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/globex/Users/" + id, "", as_other).status == 404);
    const auto listed = call(gw.port(), verb::get,
                             "/scim/v2/globex/Users?filter=userName%20eq%20%22person.1%40example.com%22", "", as_other);
    BOOST_TEST(body_of(listed).at("totalResults").as_int64() == 0);
    // acme's URL with globex's token: 404, before any read.
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/acme/Users/" + id, "", as_other).status == 404);
    BOOST_TEST(answered() - before == 2);
}

BOOST_AUTO_TEST_CASE(concurrent_reads_share_batches_and_each_gets_its_own_user) {
    wait_for_connections(2);
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(create_user(i));
    get("/Users/" + ids[0]);
    const auto before = answered();
    std::atomic<int> wrong{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 16; ++t)
        clients.emplace_back([&, t] {
            http_client c(gw.port());
            for (int n = 0; n < 25; ++n) {
                const auto& id = ids[static_cast<std::size_t>((t + n) % 20)];
                const auto r = c.request(verb::get, "/scim/v2/acme/Users/" + id, "", auth);
                if (r.status != 200 || json::parse(r.body).at("id").as_string() != id) ++wrong;
            }
        });
    for (auto& c : clients) c.join();
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(answered() - before == 16 * 25);
}

BOOST_AUTO_TEST_CASE(losing_the_pipelined_connections_costs_speed_never_answers) {
    wait_for_connections(2);
    const auto id = create_user(1);
    get("/Users/" + id);
    // Readers keep reading while the server ends the pipelined sessions twice.
    std::atomic<bool> done{false};
    std::atomic<int> wrong{0}, total{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&] {
            http_client c(gw.port());
            while (!done) {
                const auto r = c.request(verb::get, "/scim/v2/acme/Users/" + id, "", auth);
                ++total;
                if (r.status != 200 || json::parse(r.body).at("id").as_string() != id) ++wrong;
            }
        });
    const std::string kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                             "'idgate pipelined reads' AND datname = '" + database() + "'";
    for (int round = 0; round < 2; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        admin_sql(kill);
        // The loss is noticed at once (the socket reports it) and the connections are back after the
        // reconnect backoff (1 s after a loss).
        for (int i = 0; i < 100 && connections() == 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        BOOST_TEST(connections() < 2);
        wait_for_connections(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    done = true;
    for (auto& c : clients) c.join();
    BOOST_TEST(total.load() > 0);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(fallbacks() >= 1);  // reads in flight at the loss were answered on the blocking pool
    const auto before = answered();
    BOOST_TEST(get("/Users/" + id).status == 200);
    BOOST_TEST(answered() == before + 1);  // and the new connections answer again
}

BOOST_AUTO_TEST_SUITE_END()
