// SPDX-License-Identifier: AGPL-3.0-or-later
#include <thread>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>

#include "gateway_process.hpp"
#include "http_client.hpp"

using namespace idgate::test;

namespace {

command_result run(const std::string& args) { return run_idgate(args); }

}  // namespace

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_AUTO_TEST_CASE(check_config_accepts_the_examples) {
    ::setenv("IDGATE_PG_CONNECTION", "host=127.0.0.1", 1);
    for (const char* name : {"idgate.sqlite.yaml", "idgate.postgres.yaml"}) {
        const auto r = run(std::string("check-config ") + IDGATE_SOURCE_DIR "/examples/config/" + name);
        BOOST_TEST(r.status == 0, r.output);
        BOOST_TEST(r.output.find(": OK") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(mapping_check_and_explain) {
    const std::string examples = IDGATE_SOURCE_DIR "/examples/mapping";
    const auto ok = run("mapping check " + examples);
    BOOST_TEST(ok.status == 0, ok.output);
    BOOST_TEST(ok.output.find("OK, 4 file(s): acme/entra-oidc (4 rules), acme/entra-prod (4 rules), acme/okta-oidc "
                              "(2 rules), acme/okta-main (4 rules)") != std::string::npos,
               ok.output);

    // A SCIM body as Okta pushes it: the answer names the rule behind each grant.
    const auto dir = make_temp_dir("mapping");
    const auto sample = (dir / "push.json").string();
    std::ofstream(sample) << R"({"userName":"Ann@Example.com","emails":[{"value":"ann@example.com","type":"work"}],
        "department":"Security","groups":[{"value":"g1","display":"idgate-admins"},{"value":"g2","display":"sec-ir-1"}]})";
    const auto explained = run("mapping explain --dir " + examples + " --connection okta-main --input " + sample);
    BOOST_TEST(explained.status == 0, explained.output);
    BOOST_TEST(explained.output.find(R"("system_role":{"role":"admin","from":{"rule":"okta-admins"}})") != std::string::npos,
               explained.output);
    BOOST_TEST(explained.output.find(R"({"permission":"active_response","from":{"rule":"security-responders"}})") !=
                   std::string::npos,
               explained.output);
    // A contractor: denied, and the exit status says so.
    std::ofstream(sample) << R"({"userName":"c@example.com","emails":[{"value":"c@example.com","type":"work"}],
        "userType":"Contractor","groups":[]})";
    const auto denied = run("mapping explain --dir " + examples + " --connection okta-main --input " + sample);
    BOOST_TEST(denied.status == 3, denied.output);
    BOOST_TEST(denied.output.find(R"("denied":{"by":"no-contractors")") != std::string::npos, denied.output);

    // One bad file makes the whole directory fail, with its line and column.
    std::ofstream(dir / "okta.yaml") << "connection: okta\nrules:\n  - name: a\n    when: {group: x}\n    grant: {system_role: root}\n"
                                        "organization: acme\n";
    const auto bad = run("mapping check " + dir.string());
    BOOST_TEST(bad.status == 1);
    BOOST_TEST(bad.output.find("okta.yaml:5:26: 'rules[0].grant.system_role': unknown system role 'root'") !=
                   std::string::npos,
               bad.output);
    BOOST_TEST(run("mapping explain --dir " + examples + " --connection nobody --input " + sample).status == 1);
    BOOST_TEST(run("mapping frobnicate").status == 2);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(check_config_names_file_line_and_key) {
    const auto dir = make_temp_dir("cli");
    const auto path = (dir / "bad.yaml").string();
    std::ofstream(path) << "server:\n  port: 8080\n  prot: 8081\n";
    const auto r = run("check-config " + path);
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.output.find(path + ":3:3: 'server.prot': unknown key") != std::string::npos, r.output);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_and_version_prints) {
    BOOST_TEST(run("frobnicate").status == 2);
    BOOST_TEST(run("").status == 2);
    const auto v = run("version");
    BOOST_TEST(v.status == 0);
    BOOST_TEST(v.output.rfind("idgate ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(bootstrap_token_is_shown_once_and_keeps_working) {
    gateway_process gw;
    const std::string token = gw.admin_token();
    BOOST_TEST_REQUIRE(token.rfind("idg_adm_", 0) == 0u);
    gw.signal(SIGTERM);
    BOOST_TEST(gw.wait_exit(std::chrono::seconds(15)) == 0);
    gw.restart();
    BOOST_TEST(gw.admin_token().empty());  // not printed a second time
    BOOST_TEST(call(gw.port(), http::verb::get, "/api/v1/organizations", "", {{"Authorization", "Bearer " + token}})
                   .status == 200);
}

BOOST_AUTO_TEST_CASE(admin_token_create_gives_a_working_token_while_the_server_runs) {
    gateway_process gw;
    const auto r = run("admin-token create --name recovery --config " + gw.config_path());
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
    const auto at = r.output.find("idg_adm_");
    BOOST_TEST_REQUIRE(at != std::string::npos, r.output);
    const auto token = r.output.substr(at, r.output.find('\n', at) - at);
    BOOST_TEST(token.size() == 8u + 43u, r.output);
    BOOST_TEST(call(gw.port(), http::verb::get, "/api/v1/organizations", "", {{"Authorization", "Bearer " + token}})
                   .status == 200);
    BOOST_TEST(run("admin-token delete").status == 2);
}

BOOST_AUTO_TEST_CASE(token_commands_create_list_and_revoke_scim_tokens) {
    // The server remembers valid tokens for token_cache_seconds; one revoked by another process (this
    // command line) stops working within that time.
    gateway_process gw("  token_cache_seconds: 1\n");
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    BOOST_TEST_REQUIRE(call(gw.port(), http::verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                           .status == 201);
    const auto cfg = " --config " + gw.config_path();
    const auto created = run("token create --org acme --name entra --expires-in-days 30" + cfg);
    BOOST_TEST_REQUIRE(created.status == 0, created.output);
    const auto at = created.output.find("idg_scim_");
    BOOST_TEST_REQUIRE(at != std::string::npos, created.output);
    const auto token = created.output.substr(at, 9 + 43);
    BOOST_TEST(created.output.find("scim base url: /scim/v2/acme") != std::string::npos, created.output);
    BOOST_TEST(call(gw.port(), http::verb::get, "/scim/v2/acme/Users", "", {{"Authorization", "Bearer " + token}}).status ==
               200);
    const auto listed = run("token list --org acme" + cfg);
    BOOST_TEST(listed.status == 0);
    BOOST_TEST(listed.output.find("entra") != std::string::npos, listed.output);
    BOOST_TEST(listed.output.find(token) == std::string::npos);  // never shown again
    const auto id_at = created.output.find("id:");
    const auto id = created.output.substr(created.output.find_first_not_of(' ', id_at + 3), 36);
    BOOST_TEST(run("token revoke --org acme --id " + id + cfg).status == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the server's cache entry lapses
    BOOST_TEST(call(gw.port(), http::verb::get, "/scim/v2/acme/Users", "", {{"Authorization", "Bearer " + token}}).status ==
               401);
    BOOST_TEST(run("token revoke --org acme --id " + id + cfg).status == 1);
    BOOST_TEST(run("token create --org nosuch --name x" + cfg).status == 1);
    BOOST_TEST(run("token create --name x" + cfg).status == 2);
    BOOST_TEST(run("token create --org acme --expires-in-days 0" + cfg).status == 2);
}

BOOST_AUTO_TEST_CASE(serve_fails_clearly_when_the_port_is_taken) {
    gateway_process first;
    const auto dir = make_temp_dir("port");
    const auto path = (dir / "idgate.yaml").string();
    std::ofstream(path) << "server: {port: " << first.port() << "}\nstorage:\n  sqlite: {path: " << (dir / "x.db").string()
                        << "}\n";
    const auto r = run("serve --config " + path);
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.output.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos,
               r.output);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
