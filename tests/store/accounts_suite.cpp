// SPDX-License-Identifier: AGPL-3.0-or-later
// Local user management's storage, on every backend: ownership invariants, one-time links, sessions,
// login history, TOTP steps, settings, account queries.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "../support/manual_clock.hpp"
#include "backend_context.hpp"
#include "accounts/mfa_keys.hpp"
#include "core/crypto.hpp"
#include "schema/filter.hpp"
#include "store/accounts.hpp"
#include "store/provisioning.hpp"

namespace idgate::store {
inline std::ostream& operator<<(std::ostream& out, errc e) { return out << make_error_code(e).message(); }
}  // namespace idgate::store
namespace idgate::schema {
inline std::ostream& operator<<(std::ostream& out, system_role r) { return out << to_string(r); }
inline std::ostream& operator<<(std::ostream& out, user_status s) { return out << to_string(s); }
inline std::ostream& operator<<(std::ostream& out, invitation_state s) { return out << to_string(s); }
}  // namespace idgate::schema

using namespace idgate;
using idgate::test::context;
using schema::system_role;
using store::errc;

namespace {

const schema::actor by{"user", "u-admin", "admin", "127.0.0.1", "req"};

struct accounts_fixture {
    test::manual_clock clock;
    std::unique_ptr<store::store> db;
    schema::organization org;

    accounts_fixture() : db(context().open_fresh(clock)) {
        db->migrate();
        schema::organization o;
        o.slug = "acme";
        o.name = "Acme";
        org = db->create_organization(o, by).value();
    }
    store::accounts& accounts() { return db->local_accounts(); }

    store::new_account draft(const std::string& email, system_role role, bool invite = false) {
        store::new_account d;
        d.user.organization_id = org.id;
        d.user.user_name = email;
        d.user.emails = {{email, "work", "", true}};
        d.user.display_name = email.substr(0, email.find('@'));
        d.role = role;
        if (invite) {
            schema::one_time_link l;
            l.purpose = schema::link_purpose::invitation;
            l.secret_hash = "hash-of-" + email;
            l.expires = clock.now() + std::chrono::hours(24 * 7);
            d.invitation = l;
        } else {
            d.password_hash = "$argon2id$stored";
        }
        return d;
    }
    schema::account create(const std::string& email, system_role role, bool invite = false) {
        auto r = accounts().create_accounts({draft(email, role, invite)}, by);
        BOOST_TEST_REQUIRE(r.has_value());
        return r->front();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(accounts)

BOOST_AUTO_TEST_CASE(the_first_user_becomes_the_owner_and_the_last_owner_cannot_be_removed) {
    accounts_fixture f;
    const auto owner = f.create("owner@acme.test", system_role::member);
    BOOST_TEST(owner.role == system_role::super_admin);  // first user, whatever was asked
    const auto admin = f.create("admin@acme.test", system_role::admin);
    BOOST_TEST(admin.role == system_role::admin);

    BOOST_TEST(f.accounts().set_role(f.org.id, owner.profile.id, system_role::admin, by).error() == errc::last_owner);
    BOOST_TEST(f.accounts().set_status(f.org.id, owner.profile.id, schema::user_status::disabled, by).error() ==
               errc::last_owner);
    BOOST_TEST(f.accounts().delete_account(f.org.id, owner.profile.id, by).error() == errc::last_owner);
    BOOST_TEST(f.accounts().get_account(f.org.id, owner.profile.id)->role == system_role::super_admin);

    // Transfer: the admin becomes owner, the owner an admin, in one step; now the old owner can go.
    BOOST_TEST(f.accounts().transfer_ownership(f.org.id, owner.profile.id, admin.profile.id, by).has_value());
    BOOST_TEST(f.accounts().get_account(f.org.id, admin.profile.id)->role == system_role::super_admin);
    BOOST_TEST(f.accounts().get_account(f.org.id, owner.profile.id)->role == system_role::admin);
    BOOST_TEST(f.accounts().delete_account(f.org.id, owner.profile.id, by).has_value());
    BOOST_TEST(f.accounts().get_account(f.org.id, owner.profile.id).error() == errc::not_found);
    // The audit trail still names the deleted user.
    bool found = false;
    for (const auto& r : f.db->list_audit(f.org.id, 0, 1000))
        found = found || (r.action == "user.delete" && r.target_display == "owner@acme.test");
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(two_owners_demoting_each_other_concurrently_leave_one) {
    accounts_fixture f;
    const auto a = f.create("a@acme.test", system_role::super_admin);
    const auto b = f.create("b@acme.test", system_role::super_admin);
    BOOST_TEST_REQUIRE(b.role == system_role::super_admin);
    auto other = context().open_again(f.clock);
    std::atomic<int> succeeded{0};
    std::thread t1([&] { succeeded += f.accounts().set_role(f.org.id, a.profile.id, system_role::admin, by) ? 1 : 0; });
    std::thread t2([&] { succeeded += other->local_accounts().set_role(f.org.id, b.profile.id, system_role::admin, by) ? 1 : 0; });
    t1.join();
    t2.join();
    BOOST_TEST(succeeded.load() == 1);
    const int owners = (f.accounts().get_account(f.org.id, a.profile.id)->role == system_role::super_admin) +
                       (f.accounts().get_account(f.org.id, b.profile.id)->role == system_role::super_admin);
    BOOST_TEST(owners == 1);
}

BOOST_AUTO_TEST_CASE(batch_creation_is_all_or_nothing) {
    accounts_fixture f;
    f.create("owner@acme.test", system_role::super_admin);
    f.create("taken@acme.test", system_role::member);
    auto r = f.accounts().create_accounts(
        {f.draft("new1@acme.test", system_role::member, true), f.draft("TAKEN@acme.test", system_role::member, true)}, by);
    BOOST_TEST(r.error() == errc::already_exists);
    BOOST_TEST(!f.db->find_user_by_user_name(f.org.id, "new1@acme.test"));
}

BOOST_AUTO_TEST_CASE(invitation_links_are_single_use_expire_and_are_replaced_by_a_resend) {
    accounts_fixture f;
    f.create("owner@acme.test", system_role::super_admin);
    const auto invited = f.create("new@acme.test", system_role::member, true);
    BOOST_TEST(invited.profile.status == schema::user_status::pending);
    BOOST_TEST(invited.invitation == schema::invitation_state::pending);
    BOOST_TEST(!invited.has_password);

    // A resend replaces the first link.
    schema::one_time_link second;
    second.organization_id = f.org.id;
    second.user_id = invited.profile.id;
    second.purpose = schema::link_purpose::invitation;
    second.secret_hash = "second";
    second.expires = f.clock.now() + std::chrono::hours(1);
    BOOST_TEST(f.accounts().issue_link(second, by).has_value());
    BOOST_TEST(f.accounts().redeem_link("hash-of-new@acme.test", schema::link_purpose::invitation, "h", by).error() ==
               errc::already_used);
    BOOST_TEST(f.accounts().latest_link(f.org.id, invited.profile.id, schema::link_purpose::invitation)->secret_hash ==
               "second");
    // Wrong purpose: not found. Expired: expired, and the user shows an expired invitation.
    BOOST_TEST(f.accounts().redeem_link("second", schema::link_purpose::password_reset, "h", by).error() ==
               errc::not_found);
    f.clock.advance(std::chrono::hours(2));
    BOOST_TEST(f.accounts().get_account(f.org.id, invited.profile.id)->invitation == schema::invitation_state::expired);
    BOOST_TEST(f.accounts().redeem_link("second", schema::link_purpose::invitation, "h", by).error() == errc::expired);

    // A fresh link works once: the user becomes active with the password.
    second.secret_hash = "third";
    second.expires = f.clock.now() + std::chrono::hours(1);
    BOOST_TEST(f.accounts().issue_link(second, by).has_value());
    BOOST_TEST((f.accounts().redeem_link("third", schema::link_purpose::invitation, std::string("$argon2id$x"), by)).has_value());
    const auto active = f.accounts().get_account(f.org.id, invited.profile.id).value();
    BOOST_TEST(active.profile.status == schema::user_status::active);
    BOOST_TEST(active.has_password);
    BOOST_TEST(active.invitation == schema::invitation_state::none);
    BOOST_TEST(f.accounts().find_login(f.org.id, "NEW@acme.test")->password_hash == "$argon2id$x");
    BOOST_TEST(f.accounts().redeem_link("third", schema::link_purpose::invitation, std::string("$y"), by).error() ==
               errc::already_used);
}

BOOST_AUTO_TEST_CASE(disabling_ends_sessions_and_disabled_users_sessions_stop_working) {
    accounts_fixture f;
    f.create("owner@acme.test", system_role::super_admin);
    const auto u = f.create("u@acme.test", system_role::member);
    schema::session s;
    s.organization_id = f.org.id;
    s.user_id = u.profile.id;
    s.secret_hash = "session-secret";
    s.expires = f.clock.now() + std::chrono::hours(1);
    BOOST_TEST_REQUIRE(f.accounts().create_session(s).has_value());
    BOOST_TEST(f.accounts().find_session("session-secret").has_value());
    BOOST_TEST(f.accounts().count_sessions(f.org.id, u.profile.id) == 1);
    BOOST_TEST((f.accounts().set_status(f.org.id, u.profile.id, schema::user_status::disabled, by)).has_value());
    BOOST_TEST(!f.accounts().find_session("session-secret"));
    BOOST_TEST(f.accounts().count_sessions(f.org.id, u.profile.id) == 0);

    // Expiry is the store's check too.
    BOOST_TEST((f.accounts().set_status(f.org.id, u.profile.id, schema::user_status::active, by)).has_value());
    s.secret_hash = "short-lived";
    s.expires = f.clock.now() + std::chrono::minutes(1);
    BOOST_TEST(f.accounts().create_session(s).has_value());
    BOOST_TEST(f.accounts().find_session("short-lived").has_value());
    f.clock.advance(std::chrono::minutes(2));
    BOOST_TEST(!f.accounts().find_session("short-lived"));
}

BOOST_AUTO_TEST_CASE(login_history_counts_windows_and_failures) {
    accounts_fixture f;
    const auto u = f.create("u@acme.test", system_role::super_admin);
    const auto login = [&](bool ok) {
        f.accounts().record_login({f.org.id, u.profile.id, "u@acme.test", "password", ok, ok ? "" : "bad_password",
                                   "10.0.0.1", f.clock.now()});
    };
    login(true);
    f.clock.advance(std::chrono::hours(24 * 10));
    login(true);
    f.clock.advance(std::chrono::hours(24 * 25));
    login(true);
    login(false);
    login(false);
    const auto a = f.accounts().get_account(f.org.id, u.profile.id).value();
    BOOST_TEST(a.logins.last_7_days == 1);
    BOOST_TEST(a.logins.last_30_days == 2);
    BOOST_TEST(a.logins.last_365_days == 3);
    BOOST_TEST(a.profile.last_login.has_value());
    const auto since = f.clock.now() - std::chrono::minutes(15);
    BOOST_TEST(f.accounts().failed_logins(f.org.id, "u@acme.test", since, 5).size() == 2u);
    BOOST_TEST(f.accounts().count_failed_logins_from("10.0.0.1", since) == 2);
    BOOST_TEST(f.accounts().count_failed_logins_from("10.0.0.2", since) == 0);
    BOOST_TEST(f.accounts().list_logins(f.org.id, u.profile.id, 10).size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_totp_step_is_accepted_once) {
    accounts_fixture f;
    const auto u = f.create("u@acme.test", system_role::super_admin);
    BOOST_TEST(f.accounts().get_mfa(f.org.id, u.profile.id)->secret.empty());
    BOOST_TEST((f.accounts().set_mfa(f.org.id, u.profile.id, {"c2VjcmV0", true, 100}, "user.mfa_enrol", by)).has_value());
    BOOST_TEST(f.accounts().get_account(f.org.id, u.profile.id)->mfa_enrolled);
    BOOST_TEST(f.accounts().use_mfa_step(f.org.id, u.profile.id, 100).error() == errc::already_used);
    BOOST_TEST(f.accounts().use_mfa_step(f.org.id, u.profile.id, 101).has_value());
    BOOST_TEST(f.accounts().use_mfa_step(f.org.id, u.profile.id, 101).error() == errc::already_used);
    BOOST_TEST(f.accounts().use_mfa_step(f.org.id, u.profile.id, 100).error() == errc::already_used);
    // Recovery codes: each once; a reset of MFA removes them.
    BOOST_TEST(f.accounts().set_recovery_codes(f.org.id, u.profile.id, {"h1", "h2"}, by).has_value());
    BOOST_TEST(f.accounts().count_recovery_codes(f.org.id, u.profile.id) == 2);
    BOOST_TEST(f.accounts().use_recovery_code(f.org.id, u.profile.id, "h1", by).has_value());
    BOOST_TEST(f.accounts().use_recovery_code(f.org.id, u.profile.id, "h1", by).error() == errc::already_used);
    BOOST_TEST(f.accounts().use_recovery_code(f.org.id, u.profile.id, "h9", by).error() == errc::not_found);
    BOOST_TEST(f.accounts().count_recovery_codes(f.org.id, u.profile.id) == 1);
    BOOST_TEST((f.accounts().set_mfa(f.org.id, u.profile.id, {}, "user.mfa_reset", by)).has_value());
    BOOST_TEST(!f.accounts().get_account(f.org.id, u.profile.id)->mfa_enrolled);
    BOOST_TEST(f.accounts().count_recovery_codes(f.org.id, u.profile.id) == 0);
}

// TOTP keys are stored sealed by the accounts layer; the store pages through them and swaps one
// compare-and-set, so start-up can seal what was stored before encryption and move keys off an old one.
BOOST_AUTO_TEST_CASE(stored_totp_keys_are_sealed_again_under_the_current_key) {
    accounts_fixture f;
    const core::secret_box old_key({std::string(32, 'o')}), foreign({std::string(32, 'f')});
    const core::secret_box ring({std::string(32, 'n'), std::string(32, 'o')});
    const auto legacy = f.create("legacy@acme.test", system_role::member);
    const auto rotated = f.create("rotated@acme.test", system_role::member);
    const auto current = f.create("current@acme.test", system_role::member);
    const auto unknown = f.create("unknown@acme.test", system_role::member);
    const auto enrol = [&](const schema::account& a, const std::string& stored) {
        BOOST_TEST_REQUIRE(f.accounts().set_mfa(f.org.id, a.profile.id, {stored, true, 7}, "user.mfa_enrol", by).has_value());
    };
    enrol(legacy, core::base64url_encode("legacy raw key"));  // as stored before encryption
    enrol(rotated, idgate::accounts::seal_totp_key(old_key, rotated.profile.id, "rotated raw key"));
    const auto current_sealed = idgate::accounts::seal_totp_key(ring, current.profile.id, "current raw key");
    enrol(current, current_sealed);
    const auto unknown_sealed = idgate::accounts::seal_totp_key(foreign, unknown.profile.id, "unknown raw key");
    enrol(unknown, unknown_sealed);

    // Paging: in user id order, after the last id seen.
    const auto first = f.accounts().list_mfa_secrets("", 3);
    BOOST_TEST_REQUIRE(first.size() == 3u);
    BOOST_TEST(first[0].user_id < first[1].user_id);
    const auto rest = f.accounts().list_mfa_secrets(first.back().user_id, 3);
    BOOST_TEST_REQUIRE(rest.size() == 1u);
    BOOST_TEST(rest[0].user_id > first.back().user_id);

    const auto report = idgate::accounts::reseal_totp_keys(f.accounts(), ring);
    BOOST_TEST(report.sealed == 1);
    BOOST_TEST(report.resealed == 1);
    BOOST_TEST(report.unreadable == 1);
    const auto stored = [&](const schema::account& a) { return f.accounts().get_mfa(f.org.id, a.profile.id)->secret; };
    const core::secret_box new_only({std::string(32, 'n')});  // the old key can go now
    for (const auto& [a, raw] : std::vector<std::pair<schema::account, std::string>>{
             {legacy, "legacy raw key"}, {rotated, "rotated raw key"}, {current, "current raw key"}}) {
        BOOST_TEST(stored(a).rfind("v1." + ring.current_key_id() + ".", 0) == 0u, a.profile.user_name);
        BOOST_TEST(idgate::accounts::open_totp_key(new_only, a.profile.id, stored(a)).value_or("(unreadable)") == raw,
                   a.profile.user_name);
        BOOST_TEST(f.accounts().get_mfa(f.org.id, a.profile.id)->last_step == 7);  // only the key changed
    }
    BOOST_TEST(stored(current) == current_sealed);  // already under the current key: untouched
    BOOST_TEST(stored(unknown) == unknown_sealed);  // unreadable here: left for a ring that has its key
    // A value sealed for one user does not open as another's.
    BOOST_TEST(!idgate::accounts::open_totp_key(ring, legacy.profile.id, stored(rotated)).has_value());
    // Compare-and-set: a value that changed meanwhile (a new enrolment) is not overwritten.
    BOOST_TEST(!f.accounts().replace_mfa_secret(unknown.profile.id, "something else", "x"));
    BOOST_TEST(stored(unknown) == unknown_sealed);
    BOOST_TEST(idgate::accounts::reseal_totp_keys(f.accounts(), ring).resealed == 0);  // nothing left to do
}

// INTEROP O14: SCIM clients read the directory identity providers provisioned. Accounts made by local user
// management are not in it until a connection is bound to them; users a SCIM client pushed are.
BOOST_AUTO_TEST_CASE(local_accounts_join_the_scim_directory_only_when_bound_to_a_connection) {
    accounts_fixture f;
    const auto owner = f.create("owner@acme.test", system_role::super_admin);
    const auto invited = f.create("invited@acme.test", system_role::member, true);
    schema::user pushed;
    pushed.organization_id = f.org.id;
    pushed.user_name = "pushed@acme.test";
    pushed = f.db->create_user(pushed, {"scim_client", "t1", "token", "127.0.0.1", "r"}).value();
    // `attribute` eq `value`, or every user.
    const auto directory = [&](const std::string& attribute = "", const std::string& sub = "",
                               const std::string& value = "") {
        store::user_query q;
        q.organization_id = f.org.id;
        if (!attribute.empty()) {
            schema::filter_value v;
            v.type = schema::filter_value::kind::string;
            v.text = value;
            q.filter = std::make_shared<const schema::filter>(
                schema::filter{schema::comparison{{"", attribute, sub}, schema::compare_op::eq, v}});
        }
        std::vector<std::string> names;
        for (const auto& u : f.db->find_users(q).value().users) names.push_back(u.user_name);
        return names;
    };
    const auto read = [&](store::user_key::kind by, const std::string& value) {
        return f.db->read_user({by, f.org.id, value}).has_value();
    };
    BOOST_TEST(directory() == std::vector<std::string>{"pushed@acme.test"});
    BOOST_TEST(directory("userName", "", "owner@acme.test").empty());  // the existence check
    BOOST_TEST(directory("emails", "value", "invited@acme.test").empty());
    BOOST_TEST(directory("userName", "", "pushed@acme.test") == std::vector<std::string>{"pushed@acme.test"});
    BOOST_TEST(!read(store::user_key::kind::id, owner.profile.id));
    BOOST_TEST(!read(store::user_key::kind::user_name, "OWNER@acme.test"));
    BOOST_TEST(read(store::user_key::kind::user_name, "Pushed@acme.test"));
    BOOST_TEST(f.db->get_user(f.org.id, owner.profile.id).has_value());  // everything else still sees it

    // Nor is a local-only account a member to a SCIM client: adding one is a member that does not exist
    // (nothing of the change is written), and one that was a member from before migration 9 is not listed.
    using change = schema::group_change;
    const schema::actor client{"scim_client", "t1", "token", "127.0.0.1", "r"};
    schema::group staff;
    staff.organization_id = f.org.id;
    staff.display_name = "Staff";
    staff = f.db->create_group(staff, {pushed.id}, client).value();
    const auto members = [&] {
        std::vector<std::string> names;
        for (const auto& m : f.db->group_members(f.org.id, staff.id)) names.push_back(m.display);
        return names;
    };
    schema::group owners = staff;
    owners.display_name = "Owners";
    BOOST_TEST(f.db->create_group(owners, {owner.profile.id}, client).error() == errc::not_found);
    BOOST_TEST(f.db->change_group(f.org.id, staff.id, {{change::kind::rename, "Everyone", {}},
                                                       {change::kind::add_members, "", {owner.profile.id}}},
                                  std::nullopt, client)
                   .error() == errc::not_found);
    BOOST_TEST(f.db->get_group(f.org.id, staff.id).value().display_name == "Staff");
    context().execute("INSERT INTO group_members (group_id, user_id, organization_id, added_at) VALUES ('" + staff.id +
                      "', '" + invited.profile.id + "', '" + f.org.id + "', '2026-01-01T00:00:00.000Z')");
    BOOST_TEST(members() == std::vector<std::string>{"pushed@acme.test"});

    // Bound to a connection (a sign-in, or a push the connection's policy linked), it is provisioned.
    const auto okta = f.db->identities().ensure_connection(f.org.id, "okta", by).value();
    BOOST_TEST_REQUIRE(f.db->identities().bind(f.org.id, okta.id, "00u-owner", owner.profile.id, by).has_value());
    BOOST_TEST(directory() == (std::vector<std::string>{"owner@acme.test", "pushed@acme.test"}));
    BOOST_TEST(read(store::user_key::kind::id, owner.profile.id));
    BOOST_TEST(!read(store::user_key::kind::id, invited.profile.id));
    BOOST_TEST_REQUIRE(f.db->change_group(f.org.id, staff.id, {{change::kind::add_members, "", {owner.profile.id}}},
                                          std::nullopt, client)
                           .has_value());
    auto listed = members();
    std::sort(listed.begin(), listed.end());
    BOOST_TEST(listed == (std::vector<std::string>{"owner@acme.test", "pushed@acme.test"}));

    // Migration 9 sorts the accounts of a database from before it the same way: undo it (and the later
    // ones), run them again.
    const auto latest = f.db->migrate().database_version;
    context().execute("DROP TABLE inactive_users");
    context().execute("DELETE FROM schema_migrations WHERE version = 10");
    context().execute("CREATE INDEX users_status_created ON users (organization_id, status, created_at, id)");
    context().execute("UPDATE users SET local_only = 0");
    context().execute("DELETE FROM schema_migrations WHERE version = 9");
    context().execute("DROP INDEX users_local_only");
    context().execute("ALTER TABLE users DROP COLUMN local_only");
    BOOST_TEST(f.db->migrate().database_version == latest);
    BOOST_TEST(directory() == (std::vector<std::string>{"owner@acme.test", "pushed@acme.test"}));
    BOOST_TEST(!read(store::user_key::kind::id, invited.profile.id));
}

BOOST_AUTO_TEST_CASE(permissions_must_be_defined_before_they_are_granted) {
    accounts_fixture f;
    const auto u = f.create("u@acme.test", system_role::super_admin);
    BOOST_TEST(f.accounts().set_permissions(f.org.id, u.profile.id, {"active_response"}, by).error() == errc::not_found);
    BOOST_TEST((f.accounts().define_permission(f.org.id, {"active_response", "isolate hosts", true}, by)).has_value());
    BOOST_TEST((f.accounts().define_permission(f.org.id, {"billing", "", false}, by)).has_value());
    const auto a = f.accounts().set_permissions(f.org.id, u.profile.id, {"billing", "active_response"}, by).value();
    BOOST_TEST(a.permissions == (std::vector<std::string>{"active_response", "billing"}));
    const auto defs = f.accounts().list_permissions(f.org.id);
    BOOST_TEST_REQUIRE(defs.size() == 2u);
    BOOST_TEST(defs[0].requires_mfa);
}

BOOST_AUTO_TEST_CASE(settings_default_and_persist) {
    accounts_fixture f;
    auto s = f.accounts().get_settings(f.org.id).value();
    BOOST_TEST(!s.deactivate_only);
    BOOST_TEST(s.passwords.min_length == 8);
    s.deactivate_only = true;
    s.mfa_required = true;
    BOOST_TEST((f.accounts().set_settings(f.org.id, s, by)).has_value());
    const auto back = f.accounts().get_settings(f.org.id).value();
    BOOST_TEST(back.deactivate_only);
    BOOST_TEST(back.mfa_required);
    BOOST_TEST(f.accounts().get_settings("no-such-org").error() == errc::not_found);
}

BOOST_AUTO_TEST_CASE(account_queries_search_filter_sort_and_page) {
    accounts_fixture f;
    f.create("owner@acme.test", system_role::super_admin);
    f.clock.advance(std::chrono::hours(1));
    f.create("ann@acme.test", system_role::manager);
    f.clock.advance(std::chrono::hours(1));
    f.create("bob@other.test", system_role::member, true);
    f.clock.advance(std::chrono::hours(1));
    const auto carl = f.create("carl@acme.test", system_role::member);
    BOOST_TEST((f.accounts().set_status(f.org.id, carl.profile.id, schema::user_status::disabled, by)).has_value());

    store::account_query q;
    q.organization_id = f.org.id;
    BOOST_TEST(f.accounts().find_accounts(q)->total == 4);
    q.text = "ANN";  // a prefix of the username (and display name)
    BOOST_TEST(f.accounts().find_accounts(q)->total == 1);
    q.text = "bob@OTHER";
    BOOST_TEST(f.accounts().find_accounts(q)->total == 1);
    q.text = "acme.test";  // not a prefix of anything: the search is "starts with"
    BOOST_TEST(f.accounts().find_accounts(q)->total == 0);
    BOOST_TEST(f.accounts().find_accounts(q)->total_exact);
    q.text = "100%";  // LIKE wildcards are literal
    BOOST_TEST(f.accounts().find_accounts(q)->total == 0);
    q.text.clear();
    q.role = system_role::member;
    BOOST_TEST(f.accounts().find_accounts(q)->total == 2);
    q.role.reset();
    q.statuses = {schema::user_status::active};
    BOOST_TEST(f.accounts().find_accounts(q)->total == 2);
    q.statuses = {schema::user_status::pending};
    const auto pending = f.accounts().find_accounts(q).value();
    BOOST_TEST_REQUIRE(pending.accounts.size() == 1u);
    BOOST_TEST(pending.accounts[0].profile.user_name == "bob@other.test");
    BOOST_TEST(pending.accounts[0].invitation == schema::invitation_state::pending);
    q.statuses.clear();
    q.created_from = *core::parse_timestamp("2026-01-01T01:00:00.000Z");
    q.created_to = *core::parse_timestamp("2026-01-01T03:00:00.000Z");
    BOOST_TEST(f.accounts().find_accounts(q)->total == 2);
    q.created_from.reset();
    q.created_to.reset();
    q.sort = store::account_query::sort_key::user_name;
    q.descending = true;
    q.limit = 2;
    q.offset = 1;
    const auto page = f.accounts().find_accounts(q).value();
    BOOST_TEST(page.total == 4);
    BOOST_TEST_REQUIRE(page.accounts.size() == 2u);
    BOOST_TEST(page.accounts[0].profile.user_name == "carl@acme.test");
    BOOST_TEST(page.accounts[1].profile.user_name == "bob@other.test");
}

// The status filter reads inactive_users (migration 10), which the store keeps beside users.status: every
// way a status changes (created pending, disabled, enabled, deleted) must show in the filter at once.
BOOST_AUTO_TEST_CASE(the_status_filter_follows_every_status_change_and_deletion) {
    accounts_fixture f;
    const auto step = [&] { f.clock.advance(std::chrono::hours(1)); };
    f.create("owner@acme.test", system_role::super_admin);
    step();
    f.create("ann@acme.test", system_role::member);
    step();
    f.create("bob@acme.test", system_role::member, true);  // invited: pending
    step();
    const auto carl = f.create("carl@acme.test", system_role::member);
    step();
    const auto dan = f.create("dan@acme.test", system_role::member);
    BOOST_TEST_REQUIRE(f.accounts().set_status(f.org.id, carl.profile.id, schema::user_status::disabled, by).has_value());

    const auto names = [&](std::vector<schema::user_status> statuses, bool descending = false) {
        store::account_query q;
        q.organization_id = f.org.id;
        q.statuses = std::move(statuses);
        q.descending = descending;
        const auto page = f.accounts().find_accounts(q).value();
        std::vector<std::string> out;
        for (const auto& a : page.accounts) out.push_back(a.profile.user_name.substr(0, a.profile.user_name.find('@')));
        BOOST_TEST(page.total == static_cast<long long>(out.size()));
        return out;
    };
    using status = schema::user_status;
    using list = std::vector<std::string>;
    BOOST_TEST(names({status::disabled}) == (list{"carl"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::pending}) == (list{"bob"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::pending, status::disabled}) == (list{"bob", "carl"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::disabled, status::pending}, true) == (list{"carl", "bob"}),
               boost::test_tools::per_element());
    BOOST_TEST(names({status::active}) == (list{"owner", "ann", "dan"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::active, status::disabled}) == (list{"owner", "ann", "carl", "dan"}),
               boost::test_tools::per_element());
    BOOST_TEST(names({status::pending, status::active}, true) == (list{"dan", "bob", "ann", "owner"}),
               boost::test_tools::per_element());
    BOOST_TEST(names({status::active, status::pending, status::disabled}).size() == 5u);

    // A creation-time range applies on either path.
    store::account_query q;
    q.organization_id = f.org.id;
    q.statuses = {status::pending, status::disabled};
    q.created_from = carl.profile.created;
    BOOST_TEST(f.accounts().find_accounts(q)->total == 1);
    q.statuses = {status::active};
    BOOST_TEST(f.accounts().find_accounts(q)->total == 1);  // dan

    // Enabled again: no longer disabled, active again.
    BOOST_TEST_REQUIRE(f.accounts().set_status(f.org.id, carl.profile.id, status::active, by).has_value());
    BOOST_TEST(names({status::disabled}).empty());
    BOOST_TEST(names({status::active}) == (list{"owner", "ann", "carl", "dan"}), boost::test_tools::per_element());
    BOOST_TEST(f.accounts().get_account(f.org.id, carl.profile.id)->profile.status == status::active);

    // Disabled, then deleted: gone from every filter.
    BOOST_TEST_REQUIRE(f.accounts().set_status(f.org.id, dan.profile.id, status::disabled, by).has_value());
    BOOST_TEST(names({status::disabled}) == (list{"dan"}), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(f.accounts().delete_account(f.org.id, dan.profile.id, by).has_value());
    BOOST_TEST(names({status::disabled}).empty());
    BOOST_TEST(names({status::active, status::pending, status::disabled}).size() == 4u);

    // Migration 10 fills inactive_users from the statuses of a database from before it: undo it, run it again.
    BOOST_TEST_REQUIRE(f.accounts().set_status(f.org.id, carl.profile.id, status::disabled, by).has_value());
    const auto latest = f.db->migrate().database_version;
    context().execute("DROP TABLE inactive_users");
    context().execute("DELETE FROM schema_migrations WHERE version = 10");
    context().execute("CREATE INDEX users_status_created ON users (organization_id, status, created_at, id)");
    BOOST_TEST(f.db->migrate().database_version == latest);
    BOOST_TEST(names({status::disabled}) == (list{"carl"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::pending}) == (list{"bob"}), boost::test_tools::per_element());
    BOOST_TEST(names({status::active}) == (list{"owner", "ann"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_last_login_sort_puts_people_who_never_signed_in_last_both_ways) {
    accounts_fixture f;
    f.create("never@acme.test", system_role::super_admin);
    const auto early = f.create("early@acme.test", system_role::member);
    const auto late = f.create("late@acme.test", system_role::member);
    const auto login = [&](const schema::account& a) {
        f.accounts().record_login({f.org.id, a.profile.id, a.profile.user_name, "password", true, "", "10.0.0.1",
                                   f.clock.now()});
        f.clock.advance(std::chrono::hours(1));
    };
    login(early);
    login(late);
    store::account_query q;
    q.organization_id = f.org.id;
    q.sort = store::account_query::sort_key::last_login;
    const auto names = [&] {
        std::vector<std::string> out;
        for (const auto& a : f.accounts().find_accounts(q).value().accounts) out.push_back(a.profile.user_name);
        return out;
    };
    BOOST_TEST((names() == std::vector<std::string>{"early@acme.test", "late@acme.test", "never@acme.test"}));
    q.descending = true;
    BOOST_TEST((names() == std::vector<std::string>{"late@acme.test", "early@acme.test", "never@acme.test"}));
}

BOOST_AUTO_TEST_CASE(scoped_roles_one_per_scope_and_gone_with_the_scope) {
    accounts_fixture f;
    const auto u = f.create("u@acme.test", system_role::super_admin);
    schema::resource_scope ws;
    ws.organization_id = f.org.id;
    ws.kind = schema::scope_kind::workspace;
    ws.name = "Marketing";
    const auto marketing = f.accounts().create_scope(ws, by).value();
    BOOST_TEST(f.accounts().create_scope(ws, by).error() == errc::already_exists);
    ws.kind = schema::scope_kind::project;  // the same name as a project is fine
    const auto project = f.accounts().create_scope(ws, by).value();
    BOOST_TEST(f.accounts().list_scopes(f.org.id, schema::scope_kind::workspace).size() == 1u);
    BOOST_TEST(f.accounts().list_scopes(f.org.id, std::nullopt).size() == 2u);

    BOOST_TEST(f.accounts().set_scoped_role(f.org.id, u.profile.id, marketing.id, schema::scoped_role_name::editor, by).has_value());
    auto a = f.accounts().set_scoped_role(f.org.id, u.profile.id, marketing.id, schema::scoped_role_name::owner, by).value();
    BOOST_TEST_REQUIRE(a.scoped_roles.size() == 1u);  // replaced, not added
    BOOST_TEST(a.scoped_roles[0].scope_name == "Marketing");
    BOOST_TEST((a.scoped_roles[0].role == schema::scoped_role_name::owner));
    a = f.accounts().set_scoped_role(f.org.id, u.profile.id, project.id, schema::scoped_role_name::viewer, by).value();
    BOOST_TEST(a.scoped_roles.size() == 2u);
    BOOST_TEST(a.role == system_role::super_admin);  // the system role is untouched
    BOOST_TEST(f.accounts().set_scoped_role(f.org.id, u.profile.id, "no-such-scope", schema::scoped_role_name::viewer, by)
                   .error() == errc::not_found);
    BOOST_TEST(f.accounts().remove_scoped_role(f.org.id, u.profile.id, project.id, by)->scoped_roles.size() == 1u);
    BOOST_TEST(f.accounts().remove_scoped_role(f.org.id, u.profile.id, project.id, by).error() == errc::not_found);
    BOOST_TEST(f.accounts().delete_scope(f.org.id, marketing.id, by).has_value());
    BOOST_TEST(f.accounts().get_account(f.org.id, u.profile.id)->scoped_roles.empty());
}

BOOST_AUTO_TEST_CASE(custom_roles_grant_their_permissions) {
    accounts_fixture f;
    const auto u = f.create("u@acme.test", system_role::super_admin);
    BOOST_TEST(f.accounts().define_permission(f.org.id, {"active_response", "", true}, by).has_value());
    BOOST_TEST(f.accounts().define_permission(f.org.id, {"billing", "", false}, by).has_value());
    BOOST_TEST(f.accounts().create_custom_role(f.org.id, {"", "responder", "", {"undefined"}}, by).error() ==
               errc::not_found);
    BOOST_TEST(f.accounts().list_custom_roles(f.org.id).empty());  // nothing half-created
    BOOST_TEST(f.accounts().create_custom_role(f.org.id, {"", "responder", "IR team", {"active_response"}}, by).has_value());
    BOOST_TEST(f.accounts().create_custom_role(f.org.id, {"", "responder", "", {"billing"}}, by).error() ==
               errc::already_exists);
    BOOST_TEST(f.accounts().set_permissions(f.org.id, u.profile.id, {"billing"}, by).has_value());
    const auto a = f.accounts().set_custom_roles(f.org.id, u.profile.id, {"responder"}, by).value();
    BOOST_TEST(a.custom_roles == (std::vector<std::string>{"responder"}));
    BOOST_TEST(a.permissions == (std::vector<std::string>{"billing"}));
    BOOST_TEST(a.effective_permissions == (std::vector<std::string>{"active_response", "billing"}));
    BOOST_TEST(f.accounts().set_custom_roles(f.org.id, u.profile.id, {"ghost"}, by).error() == errc::not_found);
    BOOST_TEST(f.accounts().get_account(f.org.id, u.profile.id)->custom_roles.size() == 1u);  // rolled back
    BOOST_TEST(f.accounts().delete_custom_role(f.org.id, "responder", by).has_value());
    BOOST_TEST(f.accounts().get_account(f.org.id, u.profile.id)->effective_permissions ==
               (std::vector<std::string>{"billing"}));
}

BOOST_AUTO_TEST_CASE(a_login_by_email_must_name_exactly_one_user) {
    accounts_fixture f;
    f.create("owner@acme.test", system_role::super_admin);
    auto d1 = f.draft("one", system_role::member);
    d1.user.emails = {{"shared@acme.test", "work", "", true}};
    auto d2 = f.draft("two", system_role::member);
    d2.user.emails = {{"shared@acme.test", "work", "", true}};
    auto d3 = f.draft("three", system_role::member);
    d3.user.emails = {{"Unique@acme.test", "work", "", true}};
    BOOST_TEST((f.accounts().create_accounts({d1, d2, d3}, by)).has_value());
    BOOST_TEST(f.accounts().find_login(f.org.id, "shared@acme.test").error() == errc::not_found);
    BOOST_TEST(f.accounts().find_login(f.org.id, "unique@ACME.test")->account.profile.user_name == "three");
    BOOST_TEST(f.accounts().find_login(f.org.id, "TWO")->account.profile.user_name == "two");
}

BOOST_AUTO_TEST_SUITE_END()
