// SPDX-License-Identifier: AGPL-3.0-or-later
// Local user management (/api/v1) against the real binary: the whole lifecycle of an account, every
// permission rule, and bad input answered with a clear error that changes nothing.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "accounts/totp.hpp"
#include "core/crypto.hpp"
#include "gateway_process.hpp"
#include "http_client.hpp"
#include "smtp_sink.hpp"

using namespace idgate::test;
using http::verb;
namespace json = boost::json;

namespace {

constexpr const char* good_password = "Sunny-Day42";

json::object object_of(const reply& r) {
    const auto v = json::parse(r.body);
    return v.as_object();
}
std::string text(const json::object& o, const char* key) { return std::string(o.at(key).as_string()); }
std::string error_code(const reply& r) { return text(object_of(r).at("error").as_object(), "code"); }
std::string error_message(const reply& r) { return text(object_of(r).at("error").as_object(), "message"); }

struct person {
    std::string id, session;
};

struct accounts_fixture {
    gateway_process gw{"", "accounts"};
    std::string slug = "acme";
    person owner;

    accounts_fixture() {
        const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
        BOOST_TEST_REQUIRE(call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                               .status == 201);
        // The instance admin invites the first user, who becomes the owner whatever role is asked.
        const auto invited = call(gw.port(), verb::post, "/api/v1/organizations/acme/users",
                                  R"({"email":"owner@acme.test","role":"member"})", admin);
        BOOST_TEST_REQUIRE(invited.status == 201, invited.body);
        const auto first = object_of(invited).at("invited").as_array().at(0).as_object();
        BOOST_TEST(text(first, "role") == "super_admin");
        owner.id = text(first, "id");
        accept(text(first.at("invitation_link").as_object(), "token"), good_password);
        owner.session = login("owner@acme.test", good_password);
    }

    reply api(verb v, const std::string& path, const std::string& session, const std::string& body = "") {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!session.empty()) headers.emplace_back("Authorization", "Bearer " + session);
        return call(gw.port(), v, path, body, headers);
    }

    void accept(const std::string& token, const std::string& password) {
        const auto r = api(verb::post, "/api/v1/invitations/accept", "",
                           R"({"token":")" + token + R"(","password":")" + password + R"("})");
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
    }

    reply login_reply(const std::string& login, const std::string& password, const std::string& org = "acme") {
        return api(verb::post, "/api/v1/login", "",
                   R"({"organization":")" + org + R"(","login":")" + login + R"(","password":")" + password + R"("})");
    }

    std::string login(const std::string& login, const std::string& password) {
        const auto r = login_reply(login, password);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return text(object_of(r).at("session").as_object(), "token");
    }

    // Invites one address with a role; returns its id and invitation token.
    std::pair<std::string, std::string> invite(const std::string& email, const std::string& role,
                                               const std::string& session = {}) {
        const auto r = api(verb::post, "/api/v1/users/invitations", session.empty() ? owner.session : session,
                           R"({"emails":")" + email + R"(","role":")" + role + R"("})");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        const auto u = object_of(r).at("invited").as_array().at(0).as_object();
        return {text(u, "id"), text(u.at("invitation_link").as_object(), "token")};
    }

    // An active user with `role`, signed in.
    person member(const std::string& email, const std::string& role) {
        const auto [id, token] = invite(email, role);
        accept(token, good_password);
        return {id, login(email, good_password)};
    }

    json::object me(const std::string& session) {
        const auto r = api(verb::get, "/api/v1/me", session);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return object_of(r);
    }

    bool audit_has(const std::string& action, const std::string& target_display) {
        const auto r = api(verb::get, "/api/v1/audit?limit=1000", owner.session);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        const auto records = object_of(r);  // keep the parsed document alive for the loop
        for (const auto& rec : records.at("records").as_array()) {
            const auto& o = rec.as_object();
            if (text(o, "action") == action && text(o.at("target").as_object(), "display") == target_display)
                return true;
        }
        return false;
    }
};

std::string totp_now(const std::string& base32_secret, int steps_ahead = 0) {
    std::string key;
    BOOST_TEST_REQUIRE(idgate::accounts::totp::base32_decode(base32_secret, key));
    const auto now = idgate::core::time_point(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()));
    return idgate::accounts::totp::code_at(key, idgate::accounts::totp::step_of(now) + steps_ahead);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(accounts_api)

BOOST_AUTO_TEST_CASE(the_whole_lifecycle_invite_to_delete) {
    accounts_fixture f;
    // Invite two people at once, comma-separated.
    const auto invited = f.api(verb::post, "/api/v1/users/invitations", f.owner.session,
                               R"({"emails":"ann@acme.test, bob@acme.test","role":"member"})");
    BOOST_TEST_REQUIRE(invited.status == 201, invited.body);
    const auto list = object_of(invited).at("invited").as_array();
    BOOST_TEST_REQUIRE(list.size() == 2u);
    const auto ann = list.at(0).as_object();
    const std::string ann_id = text(ann, "id");
    BOOST_TEST(text(ann, "status") == "pending");
    BOOST_TEST(text(ann, "invitation") == "pending");

    // Resend at most every 30 seconds.
    const auto resend = f.api(verb::post, "/api/v1/users/" + ann_id + "/invitation", f.owner.session);
    BOOST_TEST(resend.status == 429, resend.body);
    BOOST_TEST(error_code(resend) == "too_soon");
    BOOST_TEST(!resend.header("Retry-After").empty());

    // Accept: the password policy lists every rule broken; then it works once.
    const std::string token = text(ann.at("invitation_link").as_object(), "token");
    auto weak = f.api(verb::post, "/api/v1/invitations/accept", "", R"({"token":")" + token + R"(","password":"abc"})");
    BOOST_TEST(weak.status == 400);
    BOOST_TEST(error_message(weak).find("at least 8 characters") != std::string::npos);
    BOOST_TEST(error_message(weak).find("digit") != std::string::npos);
    BOOST_TEST(error_message(weak).find("special character") != std::string::npos);
    f.accept(token, good_password);
    const auto again = f.api(verb::post, "/api/v1/invitations/accept", "",
                             R"({"token":")" + token + R"(","password":")" + good_password + R"("})");
    BOOST_TEST(again.status == 410);
    BOOST_TEST(error_code(again) == "link_used");

    // Login (username is case-insensitive) and /me.
    std::string session = f.login("ANN@acme.test", good_password);
    auto me = f.me(session);
    BOOST_TEST(text(me, "user_name") == "ann@acme.test");
    BOOST_TEST(text(me, "role") == "member");
    BOOST_TEST(text(me, "status") == "active");
    BOOST_TEST(me.at("logins").at("last_7_days").as_int64() == 1);

    // MFA enrolment, then login needs a code; a code works once.
    const auto started = f.api(verb::post, "/api/v1/me/mfa", session);
    BOOST_TEST_REQUIRE(started.status == 200, started.body);
    const auto secret = text(object_of(started), "secret");
    BOOST_TEST(text(object_of(started), "otpauth_uri").rfind("otpauth://totp/idgate:acme%3Aann@acme.test?secret=", 0) == 0u);
    BOOST_TEST(text(object_of(started), "qr_svg").rfind("<svg xmlns=", 0) == 0u);
    BOOST_TEST(started.header("Cache-Control") == "no-store");
    BOOST_TEST(f.api(verb::post, "/api/v1/me/mfa/confirm", session, R"({"code":"000000"})").status == 400);
    const auto confirmed = f.api(verb::post, "/api/v1/me/mfa/confirm", session, R"({"code":")" + totp_now(secret) + R"("})");
    BOOST_TEST_REQUIRE(confirmed.status == 200, confirmed.body);
    const auto recovery_codes = object_of(confirmed).at("recovery_codes").as_array();
    BOOST_TEST_REQUIRE(recovery_codes.size() == 10u);
    BOOST_TEST(f.me(session).at("mfa_enrolled").as_bool());
    BOOST_TEST(f.me(session).at("mfa").at("recovery_codes_remaining").as_int64() == 10);
    BOOST_TEST(f.api(verb::post, "/api/v1/logout", session).status == 204);
    BOOST_TEST(f.api(verb::get, "/api/v1/me", session).status == 401);

    auto challenge = f.login_reply("ann@acme.test", good_password);
    BOOST_TEST_REQUIRE(challenge.status == 200, challenge.body);
    BOOST_TEST(object_of(challenge).at("mfa_required").as_bool());
    BOOST_TEST(!object_of(challenge).contains("session"));
    // One step of drift is allowed: the next step's code (the current one confirmed the enrolment).
    const std::string code = totp_now(secret, 1);
    auto second = f.api(verb::post, "/api/v1/login/mfa", "",
                        R"({"mfa_token":")" + text(object_of(challenge), "mfa_token") + R"(","code":")" + code + R"("})");
    BOOST_TEST_REQUIRE(second.status == 200, second.body);
    session = text(object_of(second).at("session").as_object(), "token");
    challenge = f.login_reply("ann@acme.test", good_password);
    const auto replay = f.api(verb::post, "/api/v1/login/mfa", "",
                              R"({"mfa_token":")" + text(object_of(challenge), "mfa_token") + R"(","code":")" + code + R"("})");
    BOOST_TEST(replay.status == 401);
    BOOST_TEST(error_code(replay) == "mfa_code_used");

    // A recovery code signs in once in place of the authenticator (typed in upper case, even).
    std::string recovery{recovery_codes.at(0).as_string()};
    for (auto& ch : recovery) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto with_recovery = [&] {
        const auto ch = f.login_reply("ann@acme.test", good_password);
        return f.api(verb::post, "/api/v1/login/mfa", "",
                     R"({"mfa_token":")" + text(object_of(ch), "mfa_token") + R"(","recovery_code":")" + recovery + R"("})");
    };
    const auto recovered = with_recovery();
    BOOST_TEST_REQUIRE(recovered.status == 200, recovered.body);
    BOOST_TEST(error_code(with_recovery()) == "recovery_code_used");
    BOOST_TEST(f.me(session).at("mfa").at("recovery_codes_remaining").as_int64() == 9);

    // Role change shows in /me.
    const auto promoted = f.api(verb::put, "/api/v1/users/" + ann_id + "/role", f.owner.session, R"({"role":"admin"})");
    BOOST_TEST_REQUIRE(promoted.status == 200, promoted.body);
    BOOST_TEST(text(f.me(session), "role") == "admin");

    // Disable: sessions end at once, login is refused with a clear reason.
    const auto disabled = f.api(verb::post, "/api/v1/users/" + ann_id + "/disable", f.owner.session);
    BOOST_TEST_REQUIRE(disabled.status == 200, disabled.body);
    BOOST_TEST(text(object_of(disabled), "status") == "disabled");
    BOOST_TEST(f.api(verb::get, "/api/v1/me", session).status == 401);
    const auto refused = f.login_reply("ann@acme.test", good_password);
    BOOST_TEST(refused.status == 403);
    BOOST_TEST(error_code(refused) == "account_disabled");

    // Enable: she can sign in again (MFA still enrolled).
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + ann_id + "/enable", f.owner.session).status == 200);
    BOOST_TEST(object_of(f.login_reply("ann@acme.test", good_password)).at("mfa_required").as_bool());

    // Delete: gone, but the audit trail keeps her name.
    BOOST_TEST(f.api(verb::delete_, "/api/v1/users/" + ann_id, f.owner.session).status == 204);
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + ann_id, f.owner.session).status == 404);
    BOOST_TEST(f.audit_has("user.delete", "ann@acme.test"));
    BOOST_TEST(f.audit_has("user.role_change", "ann@acme.test"));
    BOOST_TEST(f.audit_has("user.mfa_enrol", "ann@acme.test"));
}

// TOTP keys are stored sealed with the key ring of `encryption` (on SQLite a key file made beside the
// database on first start). Rotating: put the new key first and restart (every stored key is sealed again
// under it), then drop the old one. A server without the right key says so, and never calls the code wrong.
// The list's status filter reads a table of its own (migration 10): what an identity provider does through
// SCIM -- create deactivated, deactivate, reactivate, delete -- shows in it at once.
BOOST_AUTO_TEST_CASE(scim_deactivation_shows_in_the_users_list_status_filter) {
    accounts_fixture f;
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + f.gw.admin_token()}};
    const auto issued = call(f.gw.port(), verb::post, "/api/v1/organizations/acme/scim-tokens", R"({"name":"okta"})", admin);
    BOOST_TEST_REQUIRE(issued.status == 201, issued.body);
    const std::vector<std::pair<std::string, std::string>> scim{
        {"Authorization", "Bearer " + text(object_of(issued), "token")}, {"Content-Type", "application/scim+json"}};
    const auto create = [&](const std::string& user_name, bool active) {
        const auto r = call(f.gw.port(), verb::post, "/scim/v2/acme/Users",
                            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + user_name +
                                R"(","name":{"givenName":"G","familyName":"F"},"active":)" + (active ? "true" : "false") +
                                "}",
                            scim);
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return text(object_of(r), "id");
    };
    const auto set_active = [&](const std::string& id, bool active) {
        const auto r = call(f.gw.port(), verb::patch, "/scim/v2/acme/Users/" + id,
                            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":)" +
                                std::string(active ? "true" : "false") + "}]}",
                            scim);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
    };
    const auto listed = [&](const std::string& query) {
        const auto r = f.api(verb::get, "/api/v1/users?" + query, f.owner.session);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        std::vector<std::string> names;
        const auto page = object_of(r);
        for (const auto& u : page.at("users").as_array()) names.push_back(text(u.as_object(), "user_name"));
        std::sort(names.begin(), names.end());
        return names;
    };
    using names = std::vector<std::string>;

    const auto pat = create("pat@acme.test", true);
    const auto quinn = create("quinn@acme.test", false);
    BOOST_TEST(listed("status=disabled") == (names{"quinn@acme.test"}), boost::test_tools::per_element());
    BOOST_TEST(listed("include_disabled=false") == (names{"owner@acme.test", "pat@acme.test"}),
               boost::test_tools::per_element());

    set_active(pat, false);
    BOOST_TEST(listed("status=disabled") == (names{"pat@acme.test", "quinn@acme.test"}), boost::test_tools::per_element());
    BOOST_TEST(listed("include_disabled=false") == (names{"owner@acme.test"}), boost::test_tools::per_element());
    BOOST_TEST(listed("").size() == 3u);

    set_active(pat, true);
    BOOST_TEST(listed("status=disabled") == (names{"quinn@acme.test"}), boost::test_tools::per_element());
    BOOST_TEST(listed("status=active") == (names{"owner@acme.test", "pat@acme.test"}), boost::test_tools::per_element());

    BOOST_TEST_REQUIRE(call(f.gw.port(), verb::delete_, "/scim/v2/acme/Users/" + quinn, "", scim).status == 204);
    BOOST_TEST(listed("status=disabled").empty());
}

BOOST_AUTO_TEST_CASE(totp_keys_are_encrypted_at_rest_and_survive_a_key_rotation) {
    accounts_fixture f;
    const auto key_file = f.gw.dir() / "idgate.key";
    BOOST_TEST_REQUIRE(std::filesystem::exists(key_file));
    BOOST_TEST(((std::filesystem::status(key_file).permissions() & std::filesystem::perms::all) ==
                (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)));
    const auto started = f.api(verb::post, "/api/v1/me/mfa", f.owner.session);
    BOOST_TEST_REQUIRE(started.status == 200, started.body);
    const auto secret = text(object_of(started), "secret");
    const auto confirmed = f.api(verb::post, "/api/v1/me/mfa/confirm", f.owner.session,
                                 R"({"code":")" + totp_now(secret) + R"("})");
    BOOST_TEST_REQUIRE(confirmed.status == 200, confirmed.body);
    const auto spent_code = totp_now(secret);

    // On SQLite the database files can be searched: the key is nowhere in them as it used to be stored.
    if (std::filesystem::exists(f.gw.dir() / "idgate.db")) {
        std::string raw;
        BOOST_TEST_REQUIRE(idgate::accounts::totp::base32_decode(secret, raw));
        std::string bytes;
        for (const char* name : {"idgate.db", "idgate.db-wal"}) {
            std::ifstream in(f.gw.dir() / name, std::ios::binary);
            bytes.append(std::istreambuf_iterator<char>(in), {});
        }
        BOOST_TEST(bytes.find("user.mfa_enrol") != std::string::npos);  // the search does see the data
        BOOST_TEST(bytes.find(idgate::core::base64url_encode(raw)) == std::string::npos);
        BOOST_TEST(bytes.find(secret) == std::string::npos);
    }

    const auto mfa_answer = [&](const std::string& code) {
        const auto challenge = f.login_reply("owner@acme.test", good_password);
        BOOST_TEST_REQUIRE(challenge.status == 200, challenge.body);
        return f.api(verb::post, "/api/v1/login/mfa", "",
                     R"({"mfa_token":")" + text(object_of(challenge), "mfa_token") + R"(","code":")" + code + R"("})");
    };
    const auto restart_with_keys = [&](const std::string& lines) {
        f.gw.signal(SIGTERM);
        BOOST_TEST_REQUIRE(f.gw.wait_exit(std::chrono::seconds(15)) == 0);
        std::ofstream(key_file, std::ios::trunc) << lines;
        f.gw.restart();
    };
    std::string old_key;
    std::getline(std::ifstream(key_file) >> std::ws, old_key);
    const auto new_key = idgate::core::secret_box::new_key_text();

    // The new key first, the old one still listed: start-up seals the stored key again under the new one.
    restart_with_keys(new_key + "\n" + old_key + "\n");
    const auto replayed = mfa_answer(spent_code);  // read and matched, then refused as already used
    BOOST_TEST(replayed.status == 401);
    BOOST_TEST(error_code(replayed) == "mfa_code_used", replayed.body);

    // The old key gone: the authenticator still works, so nothing depends on it any more.
    restart_with_keys("# rotated\n" + new_key + "\n");
    const auto signed_in = mfa_answer(totp_now(secret, 1));
    BOOST_TEST(signed_in.status == 200, signed_in.body);

    // The wrong key: a server error naming the cause, not "wrong code" (and not counted as a failed attempt).
    restart_with_keys(idgate::core::secret_box::new_key_text() + "\n");
    const auto unreadable = mfa_answer(totp_now(secret));
    BOOST_TEST(unreadable.status == 500);
    BOOST_TEST(error_code(unreadable) == "mfa_key_unreadable", unreadable.body);
    std::ifstream log(f.gw.log_path());
    const std::string logged{std::istreambuf_iterator<char>(log), {}};
    BOOST_TEST(logged.find("a TOTP key cannot be decrypted") != std::string::npos);
    BOOST_TEST(logged.find("TOTP keys re-encrypted with the current key") != std::string::npos);

    // A key file that is not keys stops the start with the line at fault.
    f.gw.signal(SIGTERM);
    BOOST_TEST_REQUIRE(f.gw.wait_exit(std::chrono::seconds(15)) == 0);
    std::ofstream(key_file, std::ios::trunc) << "c2hvcnQ=\n";
    BOOST_CHECK_EXCEPTION(f.gw.restart(), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()).find("idgate.key:1: expected 32 random bytes in base64") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(who_may_do_what) {
    accounts_fixture f;
    const auto admin = f.member("admin@acme.test", "admin");
    const auto manager = f.member("manager@acme.test", "manager");
    const auto analyst = f.member("analyst@acme.test", "member");
    const auto guest = f.member("guest@acme.test", "guest");

    // Managers see the team but change nothing.
    const auto team = f.api(verb::get, "/api/v1/users", manager.session);
    BOOST_TEST_REQUIRE(team.status == 200);
    BOOST_TEST(object_of(team).at("total").as_int64() == 5);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/invitations", manager.session, R"({"emails":"x@acme.test"})").status == 403);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + analyst.id + "/disable", manager.session).status == 403);

    // Members and guests see only themselves; another user is "not found" to them.
    const auto mine = f.api(verb::get, "/api/v1/users", analyst.session);
    BOOST_TEST(object_of(mine).at("total").as_int64() == 1);
    BOOST_TEST(text(object_of(mine).at("users").as_array().at(0).as_object(), "id") == analyst.id);
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + manager.id, analyst.session).status == 404);
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + analyst.id, analyst.session).status == 200);
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + analyst.id, analyst.session, R"({"given_name":"Ana"})").status == 200);
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + analyst.id, analyst.session, R"({"title":"Boss"})").status == 403);
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + guest.id, guest.session, R"({"given_name":"G"})").status == 403);

    // Admins manage users, but not the owner, and cannot grant super_admin.
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + analyst.id + "/role", admin.session, R"({"role":"manager"})").status == 200);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + analyst.id + "/role", admin.session, R"({"role":"super_admin"})").status == 403);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + f.owner.id + "/disable", admin.session).status == 403);
    BOOST_TEST(f.api(verb::delete_, "/api/v1/users/" + f.owner.id, admin.session).status == 403);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/invitations", admin.session,
                     R"({"emails":"boss@acme.test","role":"super_admin"})").status == 403);
    // Nobody disables themselves; the owner cannot be demoted into an ownerless organisation.
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + admin.id + "/disable", admin.session).status == 403);
    const auto grant = f.api(verb::put, "/api/v1/users/" + admin.id + "/role", f.owner.session, R"({"role":"super_admin"})");
    BOOST_TEST(grant.status == 409);
    BOOST_TEST(error_code(grant) == "use_ownership_transfer");

    // Ownership transfer: the owner's password, to an admin; the old owner becomes an admin.
    BOOST_TEST(f.api(verb::post, "/api/v1/ownership-transfer", admin.session,
                     R"({"to":")" + analyst.id + R"(","password":"Sunny-Day42"})").status == 403);
    const auto wrong = f.api(verb::post, "/api/v1/ownership-transfer", f.owner.session,
                             R"({"to":")" + admin.id + R"(","password":"Wrong-Pass1"})");
    BOOST_TEST(wrong.status == 400);
    BOOST_TEST(error_message(wrong).find("'password'") != std::string::npos);
    BOOST_TEST(f.api(verb::post, "/api/v1/ownership-transfer", f.owner.session,
                     R"({"to":")" + manager.id + R"(","password":"Sunny-Day42"})").status == 400);
    BOOST_TEST(f.api(verb::post, "/api/v1/ownership-transfer", f.owner.session,
                     R"({"to":")" + admin.id + R"(","password":"Sunny-Day42"})").status == 204);
    BOOST_TEST(text(f.me(admin.session), "role") == "super_admin");
    BOOST_TEST(text(f.me(f.owner.session), "role") == "admin");

    // Settings and audit are admin-only.
    BOOST_TEST(f.api(verb::get, "/api/v1/audit", manager.session).status == 403);
    BOOST_TEST(f.api(verb::patch, "/api/v1/settings", manager.session, R"({"mfa_required":true})").status == 403);
}

BOOST_AUTO_TEST_CASE(a_permission_that_requires_mfa_blocks_its_holder_until_enrolled) {
    accounts_fixture f;
    const auto analyst = f.member("analyst@acme.test", "member");
    BOOST_TEST_REQUIRE(f.api(verb::post, "/api/v1/permissions", f.owner.session,
                             R"({"name":"active_response","description":"isolate hosts","requires_mfa":true})")
                           .status == 201);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + analyst.id + "/permissions", f.owner.session,
                     R"({"permissions":["no_such_permission"]})").status == 400);
    const auto granted = f.api(verb::put, "/api/v1/users/" + analyst.id + "/permissions", f.owner.session,
                               R"({"permissions":["active_response"]})");
    BOOST_TEST_REQUIRE(granted.status == 200, granted.body);
    const auto blocked = f.api(verb::get, "/api/v1/users", analyst.session);
    BOOST_TEST(blocked.status == 403);
    BOOST_TEST(error_code(blocked) == "mfa_enrollment_required");
    const auto me = f.me(analyst.session);  // /me stays reachable, and says why
    BOOST_TEST(me.at("mfa").at("required").as_bool());
    BOOST_TEST(!me.at("mfa").at("enrolled").as_bool());
    const auto secret = text(object_of(f.api(verb::post, "/api/v1/me/mfa", analyst.session)), "secret");
    BOOST_TEST(f.api(verb::post, "/api/v1/me/mfa/confirm", analyst.session, R"({"code":")" + totp_now(secret) + R"("})")
                   .status == 200);
    BOOST_TEST(f.api(verb::get, "/api/v1/users", analyst.session).status == 200);
}

BOOST_AUTO_TEST_CASE(scoped_and_custom_roles_show_in_me) {
    accounts_fixture f;
    const auto ann = f.member("ann@acme.test", "member");
    const auto ws = f.api(verb::post, "/api/v1/workspaces", f.owner.session, R"({"name":"Marketing"})");
    BOOST_TEST_REQUIRE(ws.status == 201, ws.body);
    const auto ws_id = text(object_of(ws), "id");
    BOOST_TEST(f.api(verb::post, "/api/v1/workspaces", f.owner.session, R"({"name":"Marketing"})").status == 409);
    BOOST_TEST(f.api(verb::post, "/api/v1/workspaces", ann.session, R"({"name":"Mine"})").status == 403);
    BOOST_TEST(f.api(verb::get, "/api/v1/workspaces", ann.session).status == 200);
    const auto set = f.api(verb::put, "/api/v1/users/" + ann.id + "/scoped-roles/" + ws_id, f.owner.session,
                           R"({"role":"editor"})");
    BOOST_TEST_REQUIRE(set.status == 200, set.body);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + ann.id + "/scoped-roles/" + ws_id, f.owner.session,
                     R"({"role":"emperor"})").status == 400);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + ann.id + "/scoped-roles/nope", f.owner.session,
                     R"({"role":"viewer"})").status == 404);
    auto me = f.me(ann.session);
    BOOST_TEST_REQUIRE(me.at("scoped_roles").as_array().size() == 1u);
    BOOST_TEST(text(me.at("scoped_roles").as_array().at(0).as_object(), "display") == "Marketing: Editor");

    // A custom role carrying an MFA-requiring permission blocks until enrolment, like a direct grant.
    BOOST_TEST(f.api(verb::post, "/api/v1/permissions", f.owner.session,
                     R"({"name":"active_response","requires_mfa":true})").status == 201);
    BOOST_TEST(f.api(verb::post, "/api/v1/roles", f.owner.session,
                     R"({"name":"admin","permissions":["active_response"]})").status == 400);
    BOOST_TEST(f.api(verb::post, "/api/v1/roles", f.owner.session,
                     R"({"name":"responder","permissions":["active_response"]})").status == 201);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + ann.id + "/custom-roles", f.owner.session,
                     R"({"roles":["responder"]})").status == 200);
    me = f.me(ann.session);
    BOOST_TEST(me.at("effective_permissions").as_array().at(0).as_string() == "active_response");
    BOOST_TEST(me.at("mfa").at("required").as_bool());
    BOOST_TEST(f.api(verb::get, "/api/v1/workspaces", ann.session).status == 403);
    BOOST_TEST(f.api(verb::delete_, "/api/v1/roles/responder", f.owner.session).status == 204);
    BOOST_TEST(f.api(verb::get, "/api/v1/workspaces", ann.session).status == 200);
    BOOST_TEST(f.api(verb::delete_, "/api/v1/workspaces/" + ws_id, f.owner.session).status == 204);
    BOOST_TEST(f.me(ann.session).at("scoped_roles").as_array().empty());
}

BOOST_AUTO_TEST_CASE(an_email_change_takes_effect_when_the_new_address_confirms_it) {
    accounts_fixture f;
    const auto ann = f.member("ann@acme.test", "member");
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + ann.id, ann.session, R"({"email":"not an address"})").status == 400);
    const auto changed = f.api(verb::patch, "/api/v1/users/" + ann.id, ann.session, R"({"email":"ann@new.test"})");
    BOOST_TEST_REQUIRE(changed.status == 200, changed.body);
    const auto body = object_of(changed);
    BOOST_TEST(text(body, "email") == "ann@acme.test");  // not yet
    const auto pending = body.at("email_change").as_object();
    BOOST_TEST(text(pending, "email") == "ann@new.test");
    const auto token = text(pending, "token");  // no mail server here: the link comes back
    const auto confirmed = f.api(verb::post, "/api/v1/email-changes/confirm", "", R"({"token":")" + token + R"("})");
    BOOST_TEST_REQUIRE(confirmed.status == 200, confirmed.body);
    BOOST_TEST(text(f.me(ann.session), "email") == "ann@new.test");
    BOOST_TEST(text(f.me(ann.session), "user_name") == "ann@acme.test");  // the username never changes
    BOOST_TEST(f.api(verb::post, "/api/v1/email-changes/confirm", "", R"({"token":")" + token + R"("})").status == 410);
    BOOST_TEST(f.audit_has("user.email_change_confirm", "ann@acme.test"));
}

BOOST_AUTO_TEST_CASE(erasing_a_user_for_a_privacy_request_scrubs_the_history) {
    accounts_fixture f;
    const auto ann = f.member("ann@acme.test", "member");
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + ann.id, ann.session, R"({"given_name":"Annabel"})").status == 200);
    BOOST_TEST(f.api(verb::patch, "/api/v1/settings", f.owner.session, R"({"deletion":"deactivate_only"})").status == 200);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + ann.id + "/erase", ann.session).status == 403);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + ann.id + "/erase", f.owner.session).status == 204);
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + ann.id, f.owner.session).status == 404);
    const auto audit = f.api(verb::get, "/api/v1/audit?limit=1000", f.owner.session);
    BOOST_TEST(audit.body.find("ann@acme.test") == std::string::npos);  // the name is gone...
    BOOST_TEST(audit.body.find("Annabel") == std::string::npos);        // ...and what she changed
    BOOST_TEST(f.audit_has("user.erase", "erased user"));               // the fact of the erasure stays
    BOOST_TEST(f.audit_has("user.invitation_accept", "erased user"));   // and the history's shape
}

BOOST_AUTO_TEST_CASE(the_audit_trail_filters_by_actor_target_action_and_time) {
    accounts_fixture f;
    const auto ann = f.member("ann@acme.test", "admin");
    const auto bob = f.member("bob@acme.test", "member");
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + bob.id + "/role", ann.session, R"({"role":"manager"})").status == 200);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + bob.id + "/disable", ann.session).status == 200);
    const auto records = [&](const std::string& query) {
        const auto r = f.api(verb::get, "/api/v1/audit?" + query, f.owner.session);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return object_of(r).at("records").as_array();
    };
    // Who: everything Ann did, and nothing else.
    const auto by_ann = records("actor=" + ann.id);
    BOOST_TEST(by_ann.size() >= 2u);
    for (const auto& r : by_ann) BOOST_TEST(text(r.at("actor").as_object(), "id") == ann.id);
    // What happened to Bob, by exact action and by prefix.
    BOOST_TEST(records("target=" + bob.id + "&action=user.role_change").size() == 1u);
    const auto user_actions = records("target=" + bob.id + "&action=user.");
    BOOST_TEST(user_actions.size() >= 3u);  // created, role change, update (disable)...
    // Newest first, paged with `before`.
    const auto newest = records("order=desc&limit=2");
    BOOST_TEST_REQUIRE(newest.size() == 2u);
    BOOST_TEST(newest.at(0).at("id").as_int64() > newest.at(1).at("id").as_int64());
    const auto older = records("order=desc&limit=2&before=" + std::to_string(newest.at(1).at("id").as_int64()));
    BOOST_TEST_REQUIRE(!older.empty());
    BOOST_TEST(older.at(0).at("id").as_int64() < newest.at(1).at("id").as_int64());
    // Time: nothing from the future, everything since 2020.
    BOOST_TEST(records("from=2999-01-01").empty());
    BOOST_TEST(records("from=2020-01-01&limit=1000").size() == records("limit=1000").size());
    BOOST_TEST(f.api(verb::get, "/api/v1/audit?from=yesterday", f.owner.session).status == 400);
    BOOST_TEST(f.api(verb::get, "/api/v1/audit?order=desc&after=5", f.owner.session).status == 400);
}

BOOST_AUTO_TEST_CASE(bad_input_gets_a_clear_error_and_changes_nothing) {
    accounts_fixture f;
    const auto s = f.owner.session;
    const auto unknown = f.api(verb::post, "/api/v1/users/invitations", s, R"({"emails":"a@acme.test","colour":"red"})");
    BOOST_TEST(unknown.status == 400);
    BOOST_TEST(error_message(unknown).find("'colour'") != std::string::npos);
    const auto type = f.api(verb::post, "/api/v1/users/invitations", s, R"({"emails":42})");
    BOOST_TEST(type.status == 400);
    BOOST_TEST(error_message(type).find("'emails'") != std::string::npos);
    // One bad address in a list: nobody is invited.
    const auto bad = f.api(verb::post, "/api/v1/users/invitations", s, R"({"emails":"ok@acme.test, not-an-email"})");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(error_message(bad).find("not-an-email") != std::string::npos);
    const auto role = f.api(verb::post, "/api/v1/users/invitations", s, R"({"emails":"ok@acme.test","role":"wizard"})");
    BOOST_TEST(role.status == 400);
    BOOST_TEST(error_message(role).find("wizard") != std::string::npos);
    BOOST_TEST(object_of(f.api(verb::get, "/api/v1/users?q=ok@", s)).at("total").as_int64() == 0);
    const auto dup = f.invite("dup@acme.test", "member");
    const auto twice = f.api(verb::post, "/api/v1/users/invitations", s, R"({"emails":"DUP@acme.test"})");
    BOOST_TEST(twice.status == 409);

    // Usernames are immutable; fields are typed.
    const auto rename = f.api(verb::patch, "/api/v1/users/" + dup.first, s, R"({"user_name":"other@acme.test"})");
    BOOST_TEST(rename.status == 400);
    BOOST_TEST(error_message(rename).find("'user_name'") != std::string::npos);
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + dup.first, s, R"({"given_name":7})").status == 400);
    BOOST_TEST(f.api(verb::put, "/api/v1/users/" + dup.first + "/role", s, R"({"role":"emperor"})").status == 400);
    BOOST_TEST(f.api(verb::patch, "/api/v1/users/" + dup.first, s, R"({not json)").status == 400);

    // Another organisation's user is not found.
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + f.gw.admin_token()}};
    BOOST_TEST(call(f.gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"other","name":"Other"})", admin).status == 201);
    const auto foreign = call(f.gw.port(), verb::post, "/api/v1/organizations/other/users", R"({"email":"x@other.test"})", admin);
    const auto foreign_id = text(object_of(foreign).at("invited").as_array().at(0).as_object(), "id");
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + foreign_id, s).status == 404);
    BOOST_TEST(f.api(verb::post, "/api/v1/users/" + foreign_id + "/disable", s).status == 404);

    // An unknown link is 404, a used one 410.
    BOOST_TEST(f.api(verb::post, "/api/v1/invitations/accept", "", R"({"token":"idg_inv_nope","password":"Sunny-Day42"})")
                   .status == 404);
    f.accept(dup.second, good_password);
    BOOST_TEST(f.api(verb::post, "/api/v1/invitations/accept", "",
                     R"({"token":")" + dup.second + R"(","password":"Sunny-Day42"})").status == 410);

    // deactivate_only: delete is refused with the way out.
    BOOST_TEST(f.api(verb::patch, "/api/v1/settings", s, R"({"deletion":"deactivate_only"})").status == 200);
    const auto refused = f.api(verb::delete_, "/api/v1/users/" + dup.first, s);
    BOOST_TEST(refused.status == 409);
    BOOST_TEST(error_message(refused).find("disable") != std::string::npos);
    BOOST_TEST(f.api(verb::get, "/api/v1/users/" + dup.first, s).status == 200);
    const auto bad_setting = f.api(verb::patch, "/api/v1/settings", s, R"({"deletion":"sometimes"})");
    BOOST_TEST(bad_setting.status == 400);
    BOOST_TEST(object_of(f.api(verb::get, "/api/v1/settings", s)).at("deletion").as_string() == "deactivate_only");
}

BOOST_AUTO_TEST_CASE(repeated_failed_logins_lock_the_account_and_say_until_when) {
    accounts_fixture f;
    for (int i = 0; i < 5; ++i) {
        const auto r = f.login_reply("owner@acme.test", "Wrong-Pass1");
        BOOST_TEST(r.status == 401);
        BOOST_TEST(error_code(r) == "invalid_credentials");
    }
    // Even the right password now waits; the answer says when to retry.
    const auto locked = f.login_reply("owner@acme.test", good_password);
    BOOST_TEST(locked.status == 429);
    BOOST_TEST(error_code(locked) == "account_locked");
    BOOST_TEST(error_message(locked).find("try again after") != std::string::npos);
    BOOST_TEST(std::stoi(locked.header("Retry-After")) > 800);
    // Unknown organisations and users get the same answer as a wrong password.
    BOOST_TEST(error_code(f.login_reply("nobody@acme.test", good_password)) == "invalid_credentials");
    BOOST_TEST(error_code(f.login_reply("owner@acme.test", good_password, "nowhere")) == "invalid_credentials");
    // The failures are the owner's login activity.
    const auto activity = f.api(verb::get, "/api/v1/users/" + f.owner.id + "/logins", f.owner.session);
    BOOST_TEST_REQUIRE(activity.status == 200);
    BOOST_TEST(object_of(activity).at("logins").as_array().size() >= 6u);
}

BOOST_AUTO_TEST_CASE(password_change_and_admin_reset_end_other_sessions) {
    accounts_fixture f;
    const auto ann = f.member("ann@acme.test", "member");
    const auto other_session = f.login("ann@acme.test", good_password);
    const auto wrong = f.api(verb::post, "/api/v1/me/password", ann.session,
                             R"({"current_password":"Nope-Nope1","new_password":"Rainy-Day43"})");
    BOOST_TEST(wrong.status == 400);
    BOOST_TEST(error_message(wrong).find("'current_password'") != std::string::npos);
    BOOST_TEST(f.api(verb::post, "/api/v1/me/password", ann.session,
                     R"({"current_password":"Sunny-Day42","new_password":"weak"})").status == 400);
    BOOST_TEST(f.api(verb::post, "/api/v1/me/password", ann.session,
                     R"({"current_password":"Sunny-Day42","new_password":"Rainy-Day43"})").status == 204);
    BOOST_TEST(f.api(verb::get, "/api/v1/me", ann.session).status == 200);     // this session stays
    BOOST_TEST(f.api(verb::get, "/api/v1/me", other_session).status == 401);  // the others end
    f.login("ann@acme.test", "Rainy-Day43");

    // Admin reset: a single-use link; completing it ends every session.
    const auto reset = f.api(verb::post, "/api/v1/users/" + ann.id + "/password-reset", f.owner.session);
    BOOST_TEST_REQUIRE(reset.status == 200, reset.body);
    const auto token = text(object_of(reset).at("reset_link").as_object(), "token");
    BOOST_TEST(f.api(verb::post, "/api/v1/password-resets/complete", "",
                     R"({"token":")" + token + R"(","password":"Windy-Day44"})").status == 200);
    BOOST_TEST(f.api(verb::get, "/api/v1/me", ann.session).status == 401);
    BOOST_TEST(f.api(verb::post, "/api/v1/password-resets/complete", "",
                     R"({"token":")" + token + R"(","password":"Windy-Day45"})").status == 410);
    f.login("ann@acme.test", "Windy-Day44");
    // By setting, a reset hands the admin a generated password instead (shown once).
    BOOST_TEST(f.api(verb::patch, "/api/v1/settings", f.owner.session, R"({"password_reset":"generated"})").status == 200);
    const auto generated = f.api(verb::post, "/api/v1/users/" + ann.id + "/password-reset", f.owner.session);
    BOOST_TEST_REQUIRE(generated.status == 200, generated.body);
    const auto new_password = text(object_of(generated), "generated_password");
    BOOST_TEST(f.login_reply("ann@acme.test", "Windy-Day44").status == 401);
    f.login("ann@acme.test", new_password);
    BOOST_TEST(f.api(verb::patch, "/api/v1/settings", f.owner.session, R"({"password_reset":"link"})").status == 200);
    BOOST_TEST(f.api(verb::post, "/api/v1/me/password", f.login("ann@acme.test", new_password),
                     R"({"current_password":")" + new_password + R"(","new_password":"Windy-Day44"})").status == 204);
    // Invalidate sessions on demand.
    const auto s2 = f.login("ann@acme.test", "Windy-Day44");
    const auto ended = f.api(verb::delete_, "/api/v1/users/" + ann.id + "/sessions", f.owner.session);
    BOOST_TEST(ended.status == 200);
    BOOST_TEST(object_of(ended).at("sessions_ended").as_int64() >= 1);
    BOOST_TEST(f.api(verb::get, "/api/v1/me", s2).status == 401);
}

BOOST_AUTO_TEST_CASE(browsers_get_a_hardened_session_cookie) {
    accounts_fixture f;
    const auto r = f.login_reply("owner@acme.test", good_password);
    const auto cookie = r.header("Set-Cookie");
    BOOST_TEST(cookie.find("idgate_session=idg_sess_") == 0u);
    BOOST_TEST(cookie.find("HttpOnly") != std::string::npos);
    BOOST_TEST(cookie.find("Secure") != std::string::npos);
    BOOST_TEST(cookie.find("SameSite=Lax") != std::string::npos);
    const auto value = cookie.substr(0, cookie.find(';'));
    BOOST_TEST(call(f.gw.port(), verb::get, "/api/v1/me", "", {{"Cookie", "theme=dark; " + value}}).status == 200);
    // A cookie-authenticated change from another origin is refused.
    BOOST_TEST(call(f.gw.port(), verb::post, "/api/v1/logout", "",
                    {{"Cookie", value}, {"Origin", "https://evil.example"}}).status == 401);
    BOOST_TEST(call(f.gw.port(), verb::get, "/api/v1/me", "", {{"Cookie", value}}).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accounts_mail)

namespace {
// Creates organisation acme and invites its owner through the instance admin API; returns the invitation link.
json::object invite_owner(gateway_process& gw) {
    const std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer " + gw.admin_token()}};
    BOOST_TEST_REQUIRE(call(gw.port(), verb::post, "/api/v1/organizations", R"({"slug":"acme","name":"Acme"})", admin)
                           .status == 201);
    const auto invited = call(gw.port(), verb::post, "/api/v1/organizations/acme/users",
                              R"({"email":"owner@acme.test"})", admin);
    BOOST_TEST_REQUIRE(invited.status == 201, invited.body);
    return object_of(invited).at("invited").as_array().at(0).at("invitation_link").as_object();
}
}  // namespace

BOOST_AUTO_TEST_CASE(invitations_and_resets_are_mailed_when_a_mail_server_is_configured) {
    smtp_sink sink;
    gateway_process gw("", "mail",
                       "mail:\n  smtp_url: smtp://127.0.0.1:" + std::to_string(sink.port()) +
                           "\n  from: no-reply@idgate.test\n  from_name: Acme Sign-in\n  require_tls: false\n"
                           "  invitation_url: https://app.test/accept?token={token}\n"
                           "  password_reset_url: https://app.test/reset?token={token}\n");
    const auto link = invite_owner(gw);
    // Sent: the API does not show the secret, the mail carries it.
    BOOST_TEST(text(link, "sent_to") == "owner@acme.test");
    BOOST_TEST(!link.contains("token"));
    const auto mails = sink.wait_for(1);
    BOOST_TEST_REQUIRE(mails.size() == 1u);
    BOOST_TEST(mails[0].from == "<no-reply@idgate.test>");
    BOOST_TEST_REQUIRE(mails[0].recipients.size() == 1u);
    BOOST_TEST(mails[0].recipients[0] == "<owner@acme.test>");
    BOOST_TEST(mails[0].data.find("Subject: You are invited to Acme") != std::string::npos);
    BOOST_TEST(mails[0].data.find("From: Acme Sign-in <no-reply@idgate.test>") != std::string::npos);
    const auto at = mails[0].data.find("https://app.test/accept?token=");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const auto start = at + std::string("https://app.test/accept?token=").size();
    const auto token = mails[0].data.substr(start, mails[0].data.find("\r\n", start) - start);
    const auto accepted = call(gw.port(), verb::post, "/api/v1/invitations/accept",
                               R"({"token":")" + token + R"(","password":"Sunny-Day42"})");
    BOOST_TEST(accepted.status == 200, accepted.body);
}

BOOST_AUTO_TEST_CASE(a_mail_server_that_is_down_does_not_lose_the_invitation) {
    unsigned short closed_port = 0;
    {
        smtp_sink gone;  // a port that was just free, now closed again
        closed_port = gone.port();
    }
    gateway_process gw("", "mail-down",
                       "mail:\n  smtp_url: smtp://127.0.0.1:" + std::to_string(closed_port) +
                           "\n  from: no-reply@idgate.test\n  require_tls: false\n  timeout_seconds: 2\n");
    const auto link = invite_owner(gw);
    BOOST_TEST(link.contains("delivery_error"));
    // The user and the link exist: the admin can pass the link on.
    const auto accepted = call(gw.port(), verb::post, "/api/v1/invitations/accept",
                               R"({"token":")" + text(link, "token") + R"(","password":"Sunny-Day42"})");
    BOOST_TEST(accepted.status == 200, accepted.body);
}

BOOST_AUTO_TEST_SUITE_END()
