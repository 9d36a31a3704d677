// SPDX-License-Identifier: AGPL-3.0-or-later
// The mapping rules in a running gateway: loaded at start, reloaded on request, on SIGHUP and on a file
// change; a bad edit is refused with file, line and column while the previous rules keep working.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

const std::string rules_v1 = "organization: acme\nconnection: okta\nrules:\n  - name: admins\n    when: {group: admins}\n"
                             "    grant: {system_role: admin}\n";
const std::string rules_v2 = "organization: acme\nconnection: okta\nrules:\n  - name: admins\n    when: {group: admins}\n"
                             "    grant: {system_role: manager}\n";

// A mapping directory holding `text` as okta.yaml.
std::filesystem::path directory_with(const std::string& text) {
    const auto dir = make_temp_dir("mapping-rules");
    std::ofstream(dir / "okta.yaml") << text;
    return dir;
}

struct mapping_fixture {
    std::filesystem::path dir = directory_with(rules_v1);
    gateway_process gw{"", "mapping", "mapping:\n  directory: " + dir.string() + "\n"};
    std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};

    ~mapping_fixture() { std::filesystem::remove_all(dir); }

    json::object status() {
        const auto r = call(gw.port(), verb::get, "/api/v1/mapping", "", admin);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return json::parse(r.body).as_object();
    }
    std::string role_for_admins() {
        const auto r = call(gw.port(), verb::post, "/api/v1/mapping/explain",
                            R"({"organization":"acme","connection":"okta","input":{"userName":"a","groups":["admins"]}})", admin);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return std::string(json::parse(r.body).at("system_role").at("role").as_string());
    }
    void write(const std::string& text) {
        // Written aside and renamed in, as editors and config management do: the watcher never reads a
        // half-written file.
        std::ofstream(dir / "okta.yaml.tmp") << text;
        std::filesystem::rename(dir / "okta.yaml.tmp", dir / "okta.yaml");
    }
    bool wait_for_generation(std::int64_t generation) {
        for (int i = 0; i < 100; ++i) {
            if (status().at("generation").as_int64() == generation) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mapping_reload)

BOOST_AUTO_TEST_CASE(reload_on_request_keeps_the_last_good_rules_on_error) {
    mapping_fixture f;
    BOOST_TEST(f.status().at("generation").as_int64() == 1);
    BOOST_TEST(f.role_for_admins() == "admin");

    f.write("organization: acme\nconnection: okta\nrules:\n  - name: admins\n    when: {group: admins}\n"
            "    grant: {system_role: root}\n");
    const auto refused = call(f.gw.port(), verb::post, "/api/v1/mapping/reload", "", f.admin);
    BOOST_TEST(refused.status == 422);
    BOOST_TEST(refused.body.find("okta.yaml:6:26: 'rules[0].grant.system_role': unknown system role 'root'") !=
                   std::string::npos,
               refused.body);
    const auto st = f.status();
    BOOST_TEST(st.at("generation").as_int64() == 1);  // the previous rules stay in force
    BOOST_TEST(st.at("last_error").as_string().starts_with(f.dir.string()));
    BOOST_TEST(f.role_for_admins() == "admin");
    const auto metrics = call(f.gw.port(), verb::get, "/metrics");
    BOOST_TEST(metrics.body.find("idgate_mapping_last_reload_failed 1") != std::string::npos);

    f.write(rules_v2);
    const auto ok = call(f.gw.port(), verb::post, "/api/v1/mapping/reload", "", f.admin);
    BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
    BOOST_TEST(json::parse(ok.body).at("generation").as_int64() == 2);
    BOOST_TEST(json::parse(ok.body).at("last_error").is_null());
    BOOST_TEST(f.role_for_admins() == "manager");
}

BOOST_AUTO_TEST_CASE(reload_on_sighup_and_on_a_file_change) {
    mapping_fixture f;
    f.write(rules_v2);
    // The watcher sees the change within a few seconds.
    BOOST_TEST_REQUIRE(f.wait_for_generation(2));
    BOOST_TEST(f.role_for_admins() == "manager");
    // SIGHUP reloads too (even with nothing changed: a new generation of the same rules).
    f.gw.signal(SIGHUP);
    BOOST_TEST_REQUIRE(f.wait_for_generation(3));
    BOOST_TEST(f.status().at("reloads").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(a_hundred_reloads_under_a_scim_write_stream_lose_nothing) {
    mapping_fixture f;
    const auto token = organization_with_scim_token(f.gw);
    std::atomic<bool> done{false};
    std::atomic<int> created{0}, write_failures{0}, explain_failures{0}, explained{0};
    // A provisioning client pushing users the whole time.
    std::thread writer([&] {
        http_client c(f.gw.port());
        for (int i = 0; !done; ++i) {
            const auto r = c.request(verb::post, "/scim/v2/acme/Users",
                                     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u)" +
                                         std::to_string(i) + R"(@example.com"})",
                                     {{"Authorization", "Bearer " + token}, {"Content-Type", "application/scim+json"}});
            if (r.status == 201) ++created;
            else ++write_failures;
        }
    });
    // Someone asking what the rules say, the whole time: always one version or the other, never an error.
    std::thread reader([&] {
        http_client c(f.gw.port());
        while (!done) {
            const auto r = c.request(verb::post, "/api/v1/mapping/explain",
                                     R"({"organization":"acme","connection":"okta","input":{"groups":["admins"]}})",
                                     f.admin);
            const auto role = r.status == 200 ? std::string(json::parse(r.body).at("system_role").at("role").as_string())
                                              : std::string();
            if (role == "admin" || role == "manager") ++explained;
            else ++explain_failures;
        }
    });
    int reloaded = 0;
    for (int i = 0; i < 100; ++i) {
        f.write(i % 2 ? rules_v1 : rules_v2);
        reloaded += call(f.gw.port(), verb::post, "/api/v1/mapping/reload", "", f.admin).status == 200;
    }
    done = true;
    writer.join();
    reader.join();
    BOOST_TEST(reloaded == 100);
    BOOST_TEST(write_failures.load() == 0);
    BOOST_TEST(explain_failures.load() == 0);
    BOOST_TEST(created.load() > 0);
    BOOST_TEST(explained.load() > 0);
    // Every acknowledged write is there.
    const auto list = call(f.gw.port(), verb::get, "/scim/v2/acme/Users?count=0", "", {{"Authorization", "Bearer " + token}});
    BOOST_TEST(json::parse(list.body).at("totalResults").as_int64() == created.load());
    BOOST_TEST(f.status().at("generation").as_int64() >= 101);
}

BOOST_AUTO_TEST_CASE(a_gateway_does_not_start_on_invalid_mapping_rules) {
    const auto dir = directory_with("organization: acme\nconnection: okta\nrulez: []\n");
    const auto state = make_temp_dir("mapping-state");
    std::ofstream config(state / "idgate.yaml");
    config << "server: {address: 127.0.0.1, port: 0}\nstorage: {type: sqlite, sqlite: {path: " << (state / "db").string()
           << "}}\nmapping: {directory: " << dir.string() << "}\n";
    config.close();
    const auto [status, out] = run_idgate("serve --config " + (state / "idgate.yaml").string());
    BOOST_TEST(status == 1);
    BOOST_TEST(out.find("okta.yaml:3:1: 'rulez': unknown key") != std::string::npos, out);
    BOOST_TEST(out.find("listening") == std::string::npos);
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(state);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(read_only_mirror)

BOOST_AUTO_TEST_CASE(enforced_sso_turns_local_management_into_a_mirror_and_back) {
    const auto dir = directory_with(
        "organization: acme\nconnection: okta-main\n"
        "locks:\n  fields: [email, given_name, title]\n  authorization: external\n"
        "  local_actions: {invite: false, delete: false, password: false}\n");
    gateway_process gw{"", "mirror", "mapping:\n  directory: " + dir.string() + "\n"};
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    BOOST_TEST_REQUIRE(call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin).status == 201);
    const auto api = [&](verb v, const std::string& path, const std::string& session, const std::string& body = "") {
        return call(gw.port(), v, path, body, {{"Authorization", "Bearer " + session}});
    };
    const auto login = [&](const std::string& who) {
        return call(gw.port(), verb::post, "/api/v1/login",
                    R"({"organization":"acme","login":")" + who + R"(","password":"Sunny-Day42"})");
    };
    const auto token_of = [](const reply& r) {
        return std::string(json::parse(r.body).at("session").at("token").as_string());
    };
    const auto activate = [&](const reply& invited) {
        const auto u = json::parse(invited.body).at("invited").at(0);
        BOOST_TEST_REQUIRE(call(gw.port(), verb::post, "/api/v1/invitations/accept",
                                R"({"token":")" + std::string(u.at("invitation_link").at("token").as_string()) +
                                    R"(","password":"Sunny-Day42"})")
                               .status == 200);
        return std::string(u.at("id").as_string());
    };
    const auto owner_id = activate(call(gw.port(), verb::post, "/api/v1/organizations/acme/users",
                                        R"({"email":"owner@acme.test"})", admin));
    const auto owner = token_of(login("owner@acme.test"));
    const auto ann_id = activate(api(verb::post, "/api/v1/users/invitations", owner, R"({"emails":"ann@acme.test"})"));

    // Enforcing needs a way back in: the owner becomes break-glass first.
    BOOST_TEST(api(verb::put, "/api/v1/sso", owner, R"({"mode":"enforced"})").status == 409);
    BOOST_TEST(api(verb::put, "/api/v1/users/" + ann_id + "/break-glass", owner, R"({"enabled":true})").status == 400);
    BOOST_TEST(api(verb::put, "/api/v1/users/" + owner_id + "/break-glass", owner, R"({"enabled":true})").status == 200);
    BOOST_TEST(api(verb::put, "/api/v1/sso", owner, R"({"mode":"enforced"})").status == 200);

    // Local passwords are off, but for the break-glass account.
    const auto refused = login("ann@acme.test");
    BOOST_TEST(refused.status == 403);
    BOOST_TEST(refused.body.find("sso_required") != std::string::npos);
    const auto glass = login("owner@acme.test");
    BOOST_TEST_REQUIRE(glass.status == 200);
    const auto s = token_of(glass);

    // /me says what the IdP owns; the mirror refuses each locked action, naming the field and the IdP.
    const auto me = json::parse(api(verb::get, "/api/v1/me", s).body);
    BOOST_TEST(me.at("locked_fields").as_array().size() == 3u);
    BOOST_TEST(me.at("roles_managed_by").as_string() == "okta-main");
    const auto invite = api(verb::post, "/api/v1/users/invitations", s, R"({"emails":"bob@acme.test"})");
    BOOST_TEST(invite.status == 403);
    BOOST_TEST(invite.body.find("managed by identity provider okta-main") != std::string::npos, invite.body);
    const auto title = api(verb::patch, "/api/v1/users/" + ann_id, s, R"({"title":"CTO"})");
    BOOST_TEST(title.status == 403);
    BOOST_TEST(title.body.find("'title' is managed by identity provider okta-main") != std::string::npos, title.body);
    BOOST_TEST(api(verb::patch, "/api/v1/users/" + ann_id, s, R"({"department":"Security"})").status == 200);  // not locked
    BOOST_TEST(api(verb::put, "/api/v1/users/" + ann_id + "/role", s, R"({"role":"manager"})").status == 403);
    BOOST_TEST(api(verb::delete_, "/api/v1/users/" + ann_id, s).status == 403);
    BOOST_TEST(api(verb::post, "/api/v1/users/" + ann_id + "/password-reset", s).status == 403);
    BOOST_TEST(api(verb::post, "/api/v1/users/" + ann_id + "/disable", s).status == 200);  // still the admin's to do

    // Back to off: nothing was lost, local management works again; both switches are audited.
    BOOST_TEST(api(verb::put, "/api/v1/sso", s, R"({"mode":"off"})").status == 200);
    BOOST_TEST(api(verb::patch, "/api/v1/users/" + ann_id, s, R"({"title":"CTO"})").status == 200);
    BOOST_TEST(json::parse(api(verb::get, "/api/v1/me", s).body).at("locked_fields").as_array().empty());
    const auto audit = api(verb::get, "/api/v1/audit?action=organization.sso_change", s);
    BOOST_TEST(json::parse(audit.body).at("records").as_array().size() == 2u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
