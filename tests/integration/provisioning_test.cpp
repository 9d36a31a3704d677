// SPDX-License-Identifier: AGPL-3.0-or-later
// What an identity provider's pushes become, against the real binary: SCIM push -> mapping rules -> stored
// roles; a rule change reconciled (roles removed too); a rename updating the same user; pushes that would
// take over a local account refused, linked or held for an admin; deprovisioning policies; and
// `idgate mapping plan` / `apply`.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gateway_process.hpp"
#include "http_client.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

const std::string okta_rules = R"(organization: acme
connection: okta-main
attributes:
  email: {from: [emails.work, emails], transform: [trim, lower], required: true}
defaults:
  system_role: member
  scoped:
    - {workspace: General, role: viewer}
rules:
  - name: okta-admins
    when: {group: idgate-admins}
    grant: {system_role: admin, priority: 100}
  - name: responders
    when: {group_prefix: "sec-"}
    grant:
      permissions: [active_response]
      scoped:
        - {project: Incidents, role: editor}
identity_conflicts: queue
)";

std::string without_admin_rule() {
    auto text = okta_rules;
    const auto from = text.find("  - name: okta-admins");
    const auto to = text.find("  - name: responders");
    text.erase(from, to - from);
    return text;
}

struct provisioning_fixture {
    std::filesystem::path dir = make_temp_dir("provisioning-rules");
    std::unique_ptr<gateway_process> gw;
    headers admin;
    std::string owner_session;

    explicit provisioning_fixture(const std::string& extra_config = "") {
        write("okta.yaml", okta_rules);
        write("entra.yaml", "organization: acme\nconnection: entra\nidentity_conflicts: link_verified_email\n"
                            "deprovisioning: {on_deactivate: delete, on_delete: disable}\n");
        gw = std::make_unique<gateway_process>("", "provisioning",
                                               "mapping:\n  directory: " + dir.string() + "\n" + extra_config);
        admin = {{"Authorization", "Bearer " + gw->admin_token()}};
        BOOST_TEST_REQUIRE(call(port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                               .status == 201);
        accept(call(port(), verb::post, "/api/v1/organizations/acme/users", R"({"email":"owner@acme.test"})", admin));
        owner_session = login("owner@acme.test");
        BOOST_TEST_REQUIRE(api(verb::post, "/api/v1/permissions", R"({"name":"active_response"})").status == 201);
    }
    ~provisioning_fixture() {
        gw.reset();
        std::filesystem::remove_all(dir);
    }
    unsigned short port() const { return gw->port(); }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir / (name + ".tmp")) << text;
        std::filesystem::rename(dir / (name + ".tmp"), dir / name);
    }

    // An invited user who accepted (so their email address is verified); returns the id.
    std::string accept(const reply& invited) {
        BOOST_TEST_REQUIRE(invited.status == 201, invited.body);
        const auto u = json::parse(invited.body).at("invited").at(0);
        const auto accepted = call(port(), verb::post, "/api/v1/invitations/accept",
                                   R"({"token":")" + std::string(u.at("invitation_link").at("token").as_string()) +
                                       R"(","password":"Sunny-Day42"})");
        BOOST_TEST_REQUIRE(accepted.status == 200, accepted.body);
        return std::string(u.at("id").as_string());
    }
    std::string login(const std::string& who) {
        const auto r = call(port(), verb::post, "/api/v1/login",
                            R"({"organization":"acme","login":")" + who + R"(","password":"Sunny-Day42"})");
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return std::string(json::parse(r.body).at("session").at("token").as_string());
    }
    reply api(verb v, const std::string& path, const std::string& body = "") {
        return call(port(), v, path, body, {{"Authorization", "Bearer " + owner_session}});
    }
    std::string token_for(const std::string& connection) {
        const auto r = call(port(), verb::post, "/api/v1/organizations/acme/scim-tokens",
                            R"({"name":")" + connection + R"(","connection":")" + connection + R"("})", admin);
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        BOOST_TEST(json::parse(r.body).at("connection").as_string() == connection);
        return std::string(json::parse(r.body).at("token").as_string());
    }
    reply scim(const std::string& token, verb v, const std::string& path, const std::string& body = "") {
        return call(port(), v, "/scim/v2/acme" + path, body,
                    {{"Authorization", "Bearer " + token}, {"Content-Type", "application/scim+json"}});
    }
    std::string push_user(const std::string& token, const std::string& user_name, const std::string& email,
                          const std::string& external_id) {
        const auto r = scim(token, verb::post, "/Users",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + user_name +
                                R"(","externalId":")" + external_id + R"(","emails":[{"value":")" + email +
                                R"(","type":"work","primary":true}]})");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }
    std::string push_group(const std::string& token, const std::string& name, const std::string& member) {
        const auto r = scim(token, verb::post, "/Groups",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":")" + name +
                                R"(","members":[{"value":")" + member + R"("}]})");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }
    json::object account(const std::string& id) {
        const auto r = api(verb::get, "/api/v1/users/" + id);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return json::parse(r.body).as_object();
    }
    std::string role_of(const std::string& id) { return std::string(account(id).at("role").as_string()); }
    std::vector<std::string> scoped_of(const std::string& id) {
        std::vector<std::string> out;
        const auto a = account(id);  // kept alive: range-for over a temporary's member would dangle
        for (const auto& s : a.at("scoped_roles").as_array())
            out.emplace_back(s.at("display").as_string());
        std::sort(out.begin(), out.end());
        return out;
    }
    bool wait_for_role(const std::string& id, const std::string& role) {
        for (int i = 0; i < 100; ++i) {
            if (role_of(id) == role) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(idp_provisioning)

BOOST_AUTO_TEST_CASE(a_scim_push_is_mapped_to_stored_roles_and_a_rule_change_is_reconciled) {
    provisioning_fixture f;
    const auto okta = f.token_for("okta-main");

    // The attribute mapping applies to the push (transform: lower) and its required fields are enforced.
    const auto missing = f.scim(okta, verb::post, "/Users",
                                R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"nomail"})");
    BOOST_TEST(missing.status == 400);
    BOOST_TEST(json::parse(missing.body).at("scimType").as_string() == "invalidValue");
    BOOST_TEST(missing.body.find("connection 'okta-main' require email (from emails.work, emails)") != std::string::npos,
               missing.body);
    const auto ada = f.push_user(okta, "ada@acme.test", "  Ada.Lovelace@ACME.test ", "00u-ada");
    BOOST_TEST(f.account(ada).at("email").as_string() == "ada.lovelace@acme.test");

    // The user record says which IdP holds it, and by which id (a UI shows its identity read-only).
    const auto providers = f.account(ada).at("identity_providers");
    BOOST_TEST_REQUIRE(providers.as_array().size() == 1u);
    BOOST_TEST(providers.at(0).at("connection").as_string() == "okta-main");
    BOOST_TEST(providers.at(0).at("subject").as_string() == "00u-ada");

    // The defaults: every user from Okta is a member with read access to General.
    BOOST_TEST(f.role_of(ada) == "member");
    BOOST_TEST(f.scoped_of(ada) == std::vector<std::string>{"General: Viewer"});

    // Group pushes grant what the rules say, by the time the push is answered.
    const auto admins = f.push_group(okta, "idgate-admins", ada);
    BOOST_TEST(f.role_of(ada) == "admin");
    const auto responders = f.push_group(okta, "sec-ir", ada);
    BOOST_TEST((f.scoped_of(ada) == std::vector<std::string>{"General: Viewer", "Incidents: Editor"}));
    BOOST_TEST(f.account(ada).at("permissions").as_array().size() == 1u);

    // A rename (userName and email) updates the same user, still bound to its Okta id.
    const auto renamed = f.scim(okta, verb::patch, "/Users/" + ada,
                                R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                                R"({"op":"replace","path":"userName","value":"ada.king@acme.test"},)"
                                R"({"op":"replace","path":"emails[type eq \"work\"].value","value":"Ada.King@acme.test"}]})");
    BOOST_TEST_REQUIRE(renamed.status == 200, renamed.body);
    BOOST_TEST(json::parse(renamed.body).at("id").as_string() == ada);
    BOOST_TEST(f.account(ada).at("user_name").as_string() == "ada.king@acme.test");
    BOOST_TEST(f.account(ada).at("email").as_string() == "ada.king@acme.test");
    const auto listed = f.scim(okta, verb::get, "/Users?filter=externalId%20eq%20%2200u-ada%22");
    BOOST_TEST(json::parse(listed.body).at("totalResults").as_int64() == 1);
    BOOST_TEST(f.role_of(ada) == "admin");

    // Leaving a group takes away what it granted.
    const auto left = f.scim(okta, verb::patch, "/Groups/" + responders,
                             R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                             R"({"op":"remove","path":"members[value eq \")" + ada + R"(\"]"}]})");
    BOOST_TEST_REQUIRE(left.status == 204, left.body);
    BOOST_TEST(f.scoped_of(ada) == std::vector<std::string>{"General: Viewer"});
    BOOST_TEST(f.account(ada).at("permissions").as_array().empty());

    // The rules change: reconciliation removes the admin role granted by the rule that is gone.
    f.write("okta.yaml", without_admin_rule());
    BOOST_TEST_REQUIRE(call(f.port(), verb::post, "/api/v1/mapping/reload", "", f.admin).status == 200);
    BOOST_TEST(f.wait_for_role(ada, "member"));
    const auto audit = f.api(verb::get, "/api/v1/audit?action=user.grants_reconcile&target=" + ada);
    BOOST_TEST(json::parse(audit.body).at("records").as_array().size() >= 3u, audit.body);
    const auto metrics = call(f.port(), verb::get, "/metrics").body;
    BOOST_TEST(metrics.find("idgate_mapping_changed_users_total") != std::string::npos);
    BOOST_TEST(metrics.find("idgate_mapping_pending_users 0") != std::string::npos, metrics);
    (void)admins;
}

BOOST_AUTO_TEST_CASE(a_push_never_takes_over_a_local_account_silently) {
    provisioning_fixture f;
    const auto grace = f.accept(f.api(verb::post, "/api/v1/users/invitations", R"({"emails":"grace@acme.test"})"));
    const auto lin = f.accept(f.api(verb::post, "/api/v1/users/invitations", R"({"emails":"lin@acme.test"})"));
    const auto kim_invite = f.api(verb::post, "/api/v1/users/invitations", R"({"emails":"kim@acme.test"})");
    BOOST_TEST_REQUIRE(kim_invite.status == 201);
    const auto kim = std::string(json::parse(kim_invite.body).at("invited").at(0).at("id").as_string());

    // A connection without rules (the default policy: reject) refuses, saying what to do.
    const auto onelogin = f.token_for("onelogin");
    const auto refused = f.scim(onelogin, verb::post, "/Users",
                                R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@acme.test"})");
    BOOST_TEST(refused.status == 409);
    BOOST_TEST(json::parse(refused.body).at("scimType").as_string() == "uniqueness");
    BOOST_TEST(refused.body.find("does not take accounts over") != std::string::npos, refused.body);
    // Writing to the local account by its id is refused alike, and changes nothing.
    const auto patched = f.scim(onelogin, verb::patch, "/Users/" + grace,
                                R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                                R"({"op":"replace","path":"title","value":"Taken"}]})");
    BOOST_TEST(patched.status == 409);
    BOOST_TEST(f.account(grace).at("title").as_string() == "");
    BOOST_TEST(f.scim(onelogin, verb::delete_, "/Users/" + grace).status == 409);

    // okta-main holds the conflict for an admin; approving links the account, and the IdP's retry works.
    const auto okta = f.token_for("okta-main");
    const auto held = f.scim(okta, verb::post, "/Users",
                             R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@acme.test",)"
                             R"("externalId":"00u-grace","emails":[{"value":"grace@acme.test","type":"work","primary":true}]})");
    BOOST_TEST(held.status == 409);
    BOOST_TEST(held.body.find("waiting for an idgate admin's approval") != std::string::npos, held.body);
    BOOST_TEST(f.scim(okta, verb::post, "/Users",
                      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@acme.test",)"
                      R"("externalId":"00u-grace","emails":[{"value":"grace@acme.test","type":"work","primary":true}]})")
                   .status == 409);
    const auto conflicts = json::parse(f.api(verb::get, "/api/v1/identity-conflicts").body);
    const auto& pending = conflicts.at("conflicts").as_array();
    BOOST_TEST_REQUIRE(pending.size() == 1u);  // a retry does not add another
    const auto& conflict = pending.at(0);
    BOOST_TEST(conflict.at("connection").as_string() == "okta-main");
    BOOST_TEST(conflict.at("existing_user").at("id").as_string() == grace);
    BOOST_TEST(conflict.at("reason").as_string() == "same userName");
    BOOST_TEST(conflict.at("proposed").at("externalId").as_string() == "00u-grace");
    const std::string conflict_id{conflict.at("id").as_string()};
    const auto approved = f.api(verb::post, "/api/v1/identity-conflicts/" + conflict_id + "/approve");
    BOOST_TEST_REQUIRE(approved.status == 200, approved.body);
    BOOST_TEST(f.api(verb::post, "/api/v1/identity-conflicts/" + conflict_id + "/reject").status == 409);
    const auto now_managed = f.scim(okta, verb::patch, "/Users/" + grace,
                                    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                                    R"({"op":"replace","path":"title","value":"Engineer"}]})");
    BOOST_TEST(now_managed.status == 200, now_managed.body);
    BOOST_TEST(f.role_of(grace) == "member");  // and the rules apply to it now

    // entra links only an account whose owner verified the same address.
    const auto entra = f.token_for("entra");
    const auto linked = f.scim(entra, verb::post, "/Users",
                               R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"lin.w@acme.test",)"
                               R"("emails":[{"value":"LIN@acme.test","type":"work","primary":true}]})");
    BOOST_TEST_REQUIRE(linked.status == 201, linked.body);
    BOOST_TEST(json::parse(linked.body).at("id").as_string() == lin);
    BOOST_TEST(f.account(lin).at("user_name").as_string() == "lin.w@acme.test");
    const auto unverified = f.scim(entra, verb::post, "/Users",
                                   R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kim.k@acme.test",)"
                                   R"("emails":[{"value":"kim@acme.test","type":"work","primary":true}]})");
    BOOST_TEST(unverified.status == 409);
    BOOST_TEST(unverified.body.find("has not verified") != std::string::npos, unverified.body);
    BOOST_TEST(f.account(kim).at("user_name").as_string() == "kim@acme.test");
    // An account another connection manages is never moved between identity providers.
    const auto stolen = f.scim(entra, verb::patch, "/Users/" + grace,
                               R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                               R"({"op":"replace","path":"title","value":"Taken"}]})");
    BOOST_TEST(stolen.status == 409);
    BOOST_TEST(stolen.body.find("managed by another identity-provider connection") != std::string::npos, stolen.body);
}

// INTEROP O14: a SCIM client reads the directory identity providers provisioned. Okta's spec tests read the
// first listed user and check the name parts a push carries; an account made in idgate's own user
// management (the owner, an invitation) is not in that directory, so a lookup never finds, and so never
// adopts, it. Linking one is the identity-conflict policy's decision, after which it is listed.
BOOST_AUTO_TEST_CASE(O14_scim_clients_see_provisioned_users_not_local_accounts) {
    provisioning_fixture f;
    const auto owner_id = std::string(json::parse(f.api(verb::get, "/api/v1/me").body).at("id").as_string());
    const auto invited = f.api(verb::post, "/api/v1/users/invitations", R"({"emails":"pending@acme.test"})");
    BOOST_TEST_REQUIRE(invited.status == 201);
    const auto plain = call(f.port(), verb::post, "/api/v1/organizations/acme/scim-tokens", R"({"name":"plain"})", f.admin);
    BOOST_TEST_REQUIRE(plain.status == 201, plain.body);
    const std::string token{json::parse(plain.body).at("token").as_string()};
    const auto list = [&](const std::string& query) {
        const auto r = f.scim(token, verb::get, "/Users" + query);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return json::parse(r.body).as_object();
    };
    BOOST_TEST(list("?startIndex=1&count=100").at("totalResults").as_int64() == 0);
    BOOST_TEST(list("?filter=userName%20eq%20%22owner%40acme.test%22").at("totalResults").as_int64() == 0);
    BOOST_TEST(list("?filter=emails.value%20eq%20%22pending%40acme.test%22").at("totalResults").as_int64() == 0);
    BOOST_TEST(f.scim(token, verb::get, "/Users/" + owner_id).status == 404);

    const auto pushed = f.scim(token, verb::post, "/Users",
                               R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test",)"
                               R"("name":{"givenName":"Ann","familyName":"Lee"},)"
                               R"("emails":[{"value":"ann@acme.test","type":"work","primary":true}]})");
    BOOST_TEST_REQUIRE(pushed.status == 201, pushed.body);
    // What Okta's spec test reads: GET /Users?count=1&startIndex=1, then that user, with its name parts.
    const auto first = list("?count=1&startIndex=1");
    BOOST_TEST(first.at("totalResults").as_int64() == 1);
    const std::string first_id{first.at("Resources").at(0).at("id").as_string()};
    const auto got = f.scim(token, verb::get, "/Users/" + first_id);
    BOOST_TEST_REQUIRE(got.status == 200, got.body);
    BOOST_TEST(json::parse(got.body).at("name").at("givenName").as_string() == "Ann");
    BOOST_TEST(json::parse(got.body).at("name").at("familyName").as_string() == "Lee");
    const auto searched = f.scim(token, verb::post, "/Users/.search",
                                 R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],)"
                                 R"("filter":"emails.value co \"@acme.test\""})");  // all three addresses
    BOOST_TEST_REQUIRE(searched.status == 200, searched.body);
    BOOST_TEST(json::parse(searched.body).at("totalResults").as_int64() == 1, searched.body);

    // A create that names a local account is a conflict, never a silent takeover of it.
    const auto taken = f.scim(token, verb::post, "/Users",
                              R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"owner@acme.test",)"
                              R"("title":"Taken"})");
    BOOST_TEST(taken.status == 409);
    BOOST_TEST(json::parse(taken.body).at("scimType").as_string() == "uniqueness");
    BOOST_TEST(taken.body.find("made in idgate's own user management") != std::string::npos, taken.body);
    BOOST_TEST(f.account(owner_id).at("title").as_string() == "");

    // Linked to a connection by its identity-conflict policy (entra: the owner verified this address),
    // the account is provisioned: that connection's pushes, and every SCIM client, see it from then on.
    const auto entra = f.token_for("entra");
    const auto linked = f.scim(entra, verb::post, "/Users",
                               R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"owner@acme.test",)"
                               R"("name":{"givenName":"Olga","familyName":"Owner"},)"
                               R"("emails":[{"value":"owner@acme.test","type":"work","primary":true}]})");
    BOOST_TEST_REQUIRE(linked.status == 201, linked.body);
    BOOST_TEST(json::parse(linked.body).at("id").as_string() == owner_id);
    BOOST_TEST(list("?filter=userName%20eq%20%22owner%40acme.test%22").at("totalResults").as_int64() == 1);
    BOOST_TEST(f.scim(token, verb::get, "/Users/" + owner_id).status == 200);
    BOOST_TEST(list("").at("totalResults").as_int64() == 2);  // and the invitation still is not
}

BOOST_AUTO_TEST_CASE(deprovisioning_follows_the_connection_policy) {
    provisioning_fixture f;
    const auto entra = f.token_for("entra");  // on_deactivate: delete, on_delete: disable
    const auto a = f.push_user(entra, "a@acme.test", "a@acme.test", "obj-a");
    const auto b = f.push_user(entra, "b@acme.test", "b@acme.test", "obj-b");
    const auto deactivated = f.scim(entra, verb::patch, "/Users/" + a,
                                    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                                    R"({"op":"Replace","path":"active","value":"False"}]})");
    BOOST_TEST(deactivated.status == 200, deactivated.body);
    BOOST_TEST(f.scim(entra, verb::get, "/Users/" + a).status == 404);
    BOOST_TEST(f.scim(entra, verb::delete_, "/Users/" + b).status == 204);
    const auto kept = f.scim(entra, verb::get, "/Users/" + b);
    BOOST_TEST_REQUIRE(kept.status == 200);
    BOOST_TEST(json::parse(kept.body).at("active").as_bool() == false);
    BOOST_TEST(f.account(b).at("status").as_string() == "disabled");
    // okta-main has no deprovisioning section: DELETE deletes (RFC 7644 §3.6).
    const auto okta = f.token_for("okta-main");
    const auto c = f.push_user(okta, "c@acme.test", "c@acme.test", "00u-c");
    BOOST_TEST(f.scim(okta, verb::delete_, "/Users/" + c).status == 204);
    BOOST_TEST(f.scim(okta, verb::get, "/Users/" + c).status == 404);
}

BOOST_AUTO_TEST_CASE(mapping_plan_shows_and_apply_makes_the_changes_when_reconcile_is_manual) {
    provisioning_fixture f("  reconcile: manual\n");
    const auto okta = f.token_for("okta-main");
    const auto ada = f.push_user(okta, "ada@acme.test", "ada@acme.test", "00u-ada");
    f.push_group(okta, "idgate-admins", ada);
    BOOST_TEST(f.role_of(ada) == "admin");

    f.write("okta.yaml", without_admin_rule());
    BOOST_TEST_REQUIRE(call(f.port(), verb::post, "/api/v1/mapping/reload", "", f.admin).status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    BOOST_TEST(f.role_of(ada) == "admin");  // manual: nothing happens until apply

    const auto config = " --config " + f.gw->config_path();
    const auto plan = run_idgate("mapping plan" + config);
    BOOST_TEST(plan.status == 0, plan.output);
    BOOST_TEST(plan.output.find("acme/okta-main: 1 bound user(s), 1 would change") != std::string::npos, plan.output);
    BOOST_TEST(plan.output.find("- system_role admin") != std::string::npos, plan.output);
    BOOST_TEST(plan.output.find("+ system_role member") != std::string::npos, plan.output);
    BOOST_TEST(f.role_of(ada) == "admin");  // a plan changes nothing

    const auto apply = run_idgate("mapping apply --connection okta-main" + config);
    BOOST_TEST(apply.status == 0, apply.output);
    BOOST_TEST(apply.output.find("queued 1 user(s)") != std::string::npos, apply.output);
    BOOST_TEST(apply.output.find("1 changed") != std::string::npos, apply.output);
    BOOST_TEST(f.role_of(ada) == "member");
    const auto again = run_idgate("mapping plan" + config);
    BOOST_TEST(again.output.find("0 would change") != std::string::npos, again.output);
}

BOOST_AUTO_TEST_SUITE_END()
