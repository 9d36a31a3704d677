// SPDX-License-Identifier: AGPL-3.0-or-later
// docs/openapi.json against the real route table: every non-SCIM route is documented, and every
// documented operation exists (SCIM describes itself at runtime through /ServiceProviderConfig,
// /ResourceTypes and /Schemas, per RFC 7644 §4).
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "../support/manual_clock.hpp"
#include "routes.hpp"

using namespace idgate;

BOOST_AUTO_TEST_SUITE(openapi)

BOOST_AUTO_TEST_CASE(the_openapi_document_matches_the_routes) {
    std::ifstream in(std::string(IDGATE_SOURCE_DIR) + "/docs/openapi.json");
    BOOST_TEST_REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = boost::json::parse(text.str()).as_object();
    BOOST_TEST(doc.at("openapi").as_string().starts_with("3."));

    std::set<std::string> documented;
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const auto& [verb, operation] : item.as_object()) {
            documented.insert(std::string(verb) + " " + std::string(path));
            BOOST_TEST(operation.as_object().contains("responses"), verb << " " << path);
        }

    test::manual_clock clock;
    auto db = store::open_sqlite({":memory:", 1000, 1}, clock);
    gateway::metrics stats;
    scim::extension_registry extensions;
    gateway::services s{*db, stats, clock, extensions, nullptr, nullptr, {}};
    gateway::router r;
    gateway::add_routes(r, s);
    std::set<std::string> served;
    for (const auto& route : r.routes()) {
        if (route->pattern.starts_with("/scim/v2/")) continue;
        std::string verb{core::to_string(route->verb)};
        for (auto& ch : verb) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        served.insert(verb + " " + route->pattern);
    }
    for (const auto& op : served) BOOST_TEST(documented.count(op) == 1u, "undocumented route: " << op);
    for (const auto& op : documented) BOOST_TEST(served.count(op) == 1u, "documented but not served: " << op);
}

BOOST_AUTO_TEST_SUITE_END()
