// SPDX-License-Identifier: AGPL-3.0-or-later
// Identity provisioning's storage, on every backend: connections, bindings, the re-evaluation queue filled
// in the transaction of each change, grants reconciled to desired state, identity conflicts.
#include <boost/test/unit_test.hpp>

#include "../support/manual_clock.hpp"
#include "backend_context.hpp"
#include "store/accounts.hpp"
#include "store/provisioning.hpp"

namespace idgate::store {
inline std::ostream& operator<<(std::ostream& out, errc e) { return out << make_error_code(e).message(); }
}  // namespace idgate::store
namespace idgate::schema {
inline std::ostream& operator<<(std::ostream& out, system_role r) { return out << to_string(r); }
}  // namespace idgate::schema

using namespace idgate;
using idgate::test::context;
using store::errc;

namespace {

const schema::actor admin{"user", "u-admin", "admin", "127.0.0.1", "req"};

struct provisioning_fixture {
    test::manual_clock clock;
    std::unique_ptr<store::store> db;
    schema::organization org;
    store::idp_connection okta, entra;
    schema::actor okta_client;

    provisioning_fixture() : db(context().open_fresh(clock)) {
        db->migrate();
        schema::organization o;
        o.slug = "acme";
        o.name = "Acme";
        org = db->create_organization(o, admin).value();
        okta = ids().ensure_connection(org.id, "okta-main", admin).value();
        entra = ids().ensure_connection(org.id, "entra", admin).value();
        okta_client = {"scim_client", "token-1", "okta", "127.0.0.1", "req", okta.id};
        // An owner, so that demotions below are not blocked by the last-owner rule.
        owner_id = make_local("owner@acme.test");
    }
    store::provisioning& ids() { return db->identities(); }

    std::string push(const std::string& user_name, const std::string& external_id = {}) {
        schema::user u;
        u.organization_id = org.id;
        u.user_name = user_name;
        u.external_id = external_id;
        u.emails = {{user_name, "work", "", true}};
        return db->create_user(u, okta_client).value().id;
    }
    std::string make_local(const std::string& email) {
        store::new_account d;
        d.user.organization_id = org.id;
        d.user.user_name = email;
        d.user.emails = {{email, "work", "", true}};
        d.password_hash = "$argon2id$stored";
        return db->local_accounts().create_accounts({d}, admin).value().front().profile.id;
    }
    std::vector<std::string> pending_users() {
        std::vector<std::string> out;
        for (const auto& p : ids().next_pending(1000)) out.push_back(p.user_id + "@" + p.connection_name);
        std::sort(out.begin(), out.end());
        return out;
    }
    void clear_queue() {
        for (const auto& p : ids().next_pending(1000)) ids().finish_pending(p);
    }
    schema::account account(const std::string& id) { return db->local_accounts().get_account(org.id, id).value(); }

    std::string owner_id;
};

bool has_change(const store::reconcile_result& r, const std::string& op, const std::string& what,
                const std::string& value) {
    return std::any_of(r.changes.begin(), r.changes.end(),
                       [&](const auto& c) { return c.op == op && c.what == what && c.value == value; });
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(provisioning_storage, provisioning_fixture)

BOOST_AUTO_TEST_CASE(connections_are_created_once_per_name) {
    auto again = ids().ensure_connection(org.id, "okta-main", admin);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(again->id == okta.id);
    const auto all = ids().list_connections(org.id);
    BOOST_TEST(all.size() == 2u);
    BOOST_TEST(ids().find_connection(org.id, "entra")->id == entra.id);
    BOOST_TEST(!ids().find_connection(org.id, "onelogin").has_value());
}

BOOST_AUTO_TEST_CASE(a_push_by_a_connection_binds_the_user_by_its_external_id_and_queues_it) {
    const auto id = push("ada@acme.test", "00u-ada");
    BOOST_TEST(ids().bound_user(okta.id, "00u-ada").value_or("") == id);
    BOOST_TEST(ids().subject_of(okta.id, id).value_or("") == "00u-ada");
    BOOST_TEST(!ids().subject_of(entra.id, id).has_value());
    BOOST_TEST(pending_users() == std::vector<std::string>{id + "@okta-main"});
    // Without an externalId the subject is the user's own id, which the SCIM client holds.
    const auto bob = push("bob@acme.test");
    BOOST_TEST(ids().subject_of(okta.id, bob).value_or("") == "user:" + bob);
}

BOOST_AUTO_TEST_CASE(a_rename_keeps_the_binding_and_a_new_external_id_moves_it) {
    const auto id = push("ada@acme.test", "00u-ada");
    auto u = db->get_user(org.id, id).value();
    u.user_name = "ada.lovelace@acme.test";
    BOOST_TEST_REQUIRE(db->update_user(u, u.version, okta_client).has_value());
    BOOST_TEST(ids().bound_user(okta.id, "00u-ada").value_or("") == id);
    u = db->get_user(org.id, id).value();
    u.external_id = "00u-ada-2";
    BOOST_TEST_REQUIRE(db->update_user(u, u.version, okta_client).has_value());
    BOOST_TEST(ids().bound_user(okta.id, "00u-ada-2").value_or("") == id);
    BOOST_TEST(!ids().bound_user(okta.id, "00u-ada").has_value());
}

BOOST_AUTO_TEST_CASE(a_subject_bound_to_another_user_fails_the_whole_push) {
    push("ada@acme.test", "00u-1");
    schema::user dup;
    dup.organization_id = org.id;
    dup.user_name = "other@acme.test";
    dup.external_id = "00u-1";
    const auto r = db->create_user(dup, okta_client);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error() == errc::already_exists);
    BOOST_TEST(!db->find_user_by_user_name(org.id, "other@acme.test").has_value());  // nothing written
}

BOOST_AUTO_TEST_CASE(changes_queue_bound_users_only_in_their_transaction) {
    const auto bound = push("ada@acme.test", "00u-ada");
    const auto local = make_local("local@acme.test");
    clear_queue();
    // A local edit of a bound user queues it; of an unbound user, nothing.
    for (const auto& id : {bound, local}) {
        auto u = db->get_user(org.id, id).value();
        u.title = "Engineer";
        BOOST_TEST_REQUIRE(db->update_user(u, u.version, admin).has_value());
    }
    BOOST_TEST(pending_users() == std::vector<std::string>{bound + "@okta-main"});
    clear_queue();
    // Membership: adding and removing queue the member; a rename queues every bound member. (A SCIM group's
    // members are directory users: the unbound one here was pushed by a SCIM client without a connection.)
    schema::user pushed_unbound;
    pushed_unbound.organization_id = org.id;
    pushed_unbound.user_name = "unbound@acme.test";
    const auto unbound = db->create_user(pushed_unbound, admin).value().id;
    clear_queue();
    schema::group g;
    g.organization_id = org.id;
    g.display_name = "Engineering";
    const auto group = db->create_group(g, {bound, unbound}, okta_client).value();
    BOOST_TEST(pending_users() == std::vector<std::string>{bound + "@okta-main"});
    clear_queue();
    using change = schema::group_change;
    BOOST_TEST_REQUIRE(db->change_group(org.id, group.id, {{change::kind::rename, "Eng", {}}}, std::nullopt, okta_client)
                           .has_value());
    BOOST_TEST(pending_users().size() == 1u);
    clear_queue();
    BOOST_TEST_REQUIRE(db->change_group(org.id, group.id, {{change::kind::remove_members, {}, {bound}}}, std::nullopt,
                                        okta_client)
                           .has_value());
    BOOST_TEST(pending_users().size() == 1u);
    // A change that fails queues nothing: the queue rides in the change's transaction.
    clear_queue();
    BOOST_TEST(!db->change_group(org.id, group.id, {{change::kind::add_members, {}, {bound, "no-such-user"}}},
                                 std::nullopt, okta_client)
                    .has_value());
    BOOST_TEST(pending_users().empty());
}

BOOST_AUTO_TEST_CASE(finishing_an_evaluation_keeps_a_request_queued_meanwhile) {
    const auto id = push("ada@acme.test", "00u-ada");
    const auto read = ids().next_pending(10);
    BOOST_TEST_REQUIRE(read.size() == 1u);
    auto u = db->get_user(org.id, id).value();
    u.title = "changed while being evaluated";
    BOOST_TEST_REQUIRE(db->update_user(u, u.version, okta_client).has_value());
    ids().finish_pending(read.front());
    BOOST_TEST(ids().count_pending(okta.id) == 1);  // the newer request stays
    ids().finish_pending(ids().next_pending(10).front());
    BOOST_TEST(ids().count_pending("") == 0);
    BOOST_TEST(ids().pending_for_user(id).empty());
}

BOOST_AUTO_TEST_CASE(queue_connection_queues_every_bound_user) {
    push("a@acme.test", "1");
    push("b@acme.test", "2");
    make_local("c@acme.test");
    clear_queue();
    BOOST_TEST(ids().queue_connection(okta.id) == 2);
    BOOST_TEST(ids().count_pending(okta.id) == 2);
    BOOST_TEST(ids().count_pending(entra.id) == 0);
    BOOST_TEST(ids().bound_users(okta.id, "", 10).size() == 2u);
}

BOOST_AUTO_TEST_CASE(reconcile_adds_and_removes_what_the_connection_grants) {
    const auto id = push("ada@acme.test", "00u-ada");
    schema::permission_definition p;
    p.name = "active_response";
    BOOST_TEST_REQUIRE(db->local_accounts().define_permission(org.id, p, admin).has_value());

    store::desired_grants want;
    want.system_role = schema::system_role::admin;
    want.system_role_rule = "okta-admins";
    want.scoped_roles = {{schema::scope_kind::workspace, "Marketing", schema::scoped_role_name::editor, "marketing"}};
    want.permissions = {{"active_response", "responders"}, {"undefined_permission", "responders"}};
    const schema::actor by{"system", "mapping:okta-main", "mapping", "", ""};

    // A dry run reports and changes nothing.
    auto plan = ids().reconcile_grants(org.id, id, okta.id, want, /*dry_run=*/true, by);
    BOOST_TEST_REQUIRE(plan.has_value());
    BOOST_TEST(plan->changed());
    BOOST_TEST(has_change(*plan, "add", "system_role", "admin"));
    BOOST_TEST(has_change(*plan, "add", "scoped_role", "workspace:Marketing=editor"));
    BOOST_TEST(has_change(*plan, "skip", "permission", "undefined_permission"));
    BOOST_TEST(account(id).role == schema::system_role::member);

    auto applied = ids().reconcile_grants(org.id, id, okta.id, want, false, by);
    BOOST_TEST_REQUIRE(applied.has_value());
    auto a = account(id);
    BOOST_TEST(a.role == schema::system_role::admin);
    BOOST_TEST_REQUIRE(a.scoped_roles.size() == 1u);
    BOOST_TEST(a.scoped_roles.front().scope_name == "Marketing");  // the workspace was created for the rule
    BOOST_TEST(a.permissions == std::vector<std::string>{"active_response"});
    // Applying again changes nothing; the audit trail has one reconciliation.
    BOOST_TEST(!ids().reconcile_grants(org.id, id, okta.id, want, false, by)->changed());
    store::audit_query q;
    q.organization_id = org.id;
    q.action = "user.grants_reconcile";
    BOOST_TEST(db->find_audit(q).size() == 1u);

    // The rules no longer grant anything: everything the connection gave goes, the role back to member.
    const auto removed = ids().reconcile_grants(org.id, id, okta.id, store::desired_grants{}, false, by);
    BOOST_TEST(has_change(*removed, "remove", "system_role", "admin"));
    a = account(id);
    BOOST_TEST(a.role == schema::system_role::member);
    BOOST_TEST(a.scoped_roles.empty());
    BOOST_TEST(a.permissions.empty());
}

BOOST_AUTO_TEST_CASE(undetermined_rules_keep_their_grants_and_local_grants_are_never_touched) {
    const auto id = push("ada@acme.test", "00u-ada");
    schema::permission_definition p;
    p.name = "billing";
    BOOST_TEST_REQUIRE(db->local_accounts().define_permission(org.id, p, admin).has_value());
    p.name = "active_response";
    BOOST_TEST_REQUIRE(db->local_accounts().define_permission(org.id, p, admin).has_value());
    BOOST_TEST_REQUIRE(db->local_accounts().set_permissions(org.id, id, {"billing"}, admin).has_value());
    const schema::actor by{"system", "mapping:okta-main", "mapping", "", ""};
    store::desired_grants want;
    want.system_role = schema::system_role::manager;
    want.system_role_rule = "leads";
    want.permissions = {{"active_response", "responders"}};
    BOOST_TEST_REQUIRE(ids().reconcile_grants(org.id, id, okta.id, want, false, by).has_value());

    // Entra-style overage: the groups are unknown, so both rules are undetermined: nothing is stripped.
    store::desired_grants unknown;
    unknown.keep_rules = {"leads", "responders"};
    const auto r = ids().reconcile_grants(org.id, id, okta.id, unknown, false, by);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(!r->changed());
    BOOST_TEST(has_change(*r, "keep", "system_role", "manager"));
    const auto a = account(id);
    BOOST_TEST(a.role == schema::system_role::manager);
    BOOST_TEST((a.permissions == std::vector<std::string>{"active_response", "billing"}));

    // Known and no longer granted: the connection's permission goes, the local one stays.
    BOOST_TEST_REQUIRE(ids().reconcile_grants(org.id, id, okta.id, store::desired_grants{}, false, by).has_value());
    BOOST_TEST(account(id).permissions == std::vector<std::string>{"billing"});
}

BOOST_AUTO_TEST_CASE(the_last_owner_is_never_demoted_or_disabled_by_rules) {
    const schema::actor by{"system", "mapping:okta-main", "mapping", "", ""};
    BOOST_TEST_REQUIRE(ids().bind(org.id, okta.id, "00u-owner", owner_id, admin).has_value());
    store::desired_grants want;
    want.system_role = schema::system_role::member;
    want.disable = true;
    const auto r = ids().reconcile_grants(org.id, owner_id, okta.id, want, false, by);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(has_change(*r, "skip", "system_role", "member"));
    BOOST_TEST(has_change(*r, "skip", "status", "disabled"));
    BOOST_TEST(account(owner_id).role == schema::system_role::super_admin);
    BOOST_TEST(account(owner_id).profile.active);
}

BOOST_AUTO_TEST_CASE(without_grants_disables_the_user_and_ends_its_sessions) {
    const auto id = push("ada@acme.test", "00u-ada");
    schema::session s;
    s.organization_id = org.id;
    s.user_id = id;
    s.secret_hash = "session-digest";
    s.expires = clock.now() + std::chrono::hours(1);
    BOOST_TEST_REQUIRE(db->local_accounts().create_session(s).has_value());
    store::desired_grants want;
    want.disable = true;
    const auto r = ids().reconcile_grants(org.id, id, okta.id, want, false, {"system", "", "mapping", "", ""});
    BOOST_TEST(has_change(*r, "disable", "status", "disabled"));
    BOOST_TEST(!db->get_user(org.id, id)->active);
    BOOST_TEST(db->local_accounts().count_sessions(org.id, id) == 0);
}

BOOST_AUTO_TEST_CASE(single_logout_ends_sessions_by_session_index_or_by_name_id) {
    const auto id = push("ada@acme.test", "00u-ada");
    const auto start = [&](const std::string& hash, const std::string& index, const std::string& subject) {
        schema::session s;
        s.organization_id = org.id;
        s.user_id = id;
        s.secret_hash = hash;
        s.connection_id = okta.id;
        s.idp_session = index;
        s.idp_subject = subject;
        s.idp_subject_format = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
        s.expires = clock.now() + std::chrono::hours(1);
        BOOST_TEST_REQUIRE(db->local_accounts().create_session(s).has_value());
    };
    start("digest-1", "_idx1", "ada@acme.test");
    start("digest-2", "_idx2", "ada@acme.test");
    start("digest-3", "_idx3", "other-name-id");
    const auto found = db->local_accounts().find_session("digest-1");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->idp_session == "_idx1");
    BOOST_TEST(found->idp_subject == "ada@acme.test");
    BOOST_TEST(found->idp_subject_format == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    BOOST_TEST(ids().end_idp_sessions(okta.id, "_idx1", "") == 1);
    BOOST_TEST(ids().end_subject_sessions(entra.id, "ada@acme.test") == 0);  // another connection's: untouched
    BOOST_TEST(ids().end_subject_sessions(okta.id, "") == 0);
    BOOST_TEST(ids().end_subject_sessions(okta.id, "ada@acme.test") == 1);
    BOOST_TEST(db->local_accounts().count_sessions(org.id, id) == 1);
    BOOST_TEST(db->local_accounts().find_session("digest-3").has_value());
}

BOOST_AUTO_TEST_CASE(holders_and_email_collisions) {
    const auto pushed = push("ada@acme.test", "00u-ada");
    const auto local = make_local("grace@acme.test");
    schema::user orphan;
    orphan.organization_id = org.id;
    orphan.user_name = "orphan@acme.test";
    const auto orphan_id = db->create_user(orphan, admin).value().id;
    using holder = store::provisioning::holder;
    BOOST_TEST((ids().holder_of(org.id, okta.id, pushed).value() == holder::this_connection));
    BOOST_TEST((ids().holder_of(org.id, entra.id, pushed).value() == holder::other_connection));
    BOOST_TEST((ids().holder_of(org.id, okta.id, local).value() == holder::local));
    BOOST_TEST((ids().holder_of(org.id, okta.id, orphan_id).value() == holder::nobody));
    BOOST_TEST(ids().holder_of(org.id, okta.id, "missing").error() == errc::not_found);
    BOOST_TEST(ids().users_with_email(org.id, "GRACE@acme.test") == std::vector<std::string>{local});
    BOOST_TEST(ids().users_with_email(org.id, "nobody@acme.test").empty());
}

BOOST_AUTO_TEST_CASE(identity_conflicts_are_held_once_and_decided_once) {
    const auto local = make_local("grace@acme.test");
    store::identity_conflict c;
    c.organization_id = org.id;
    c.connection_id = okta.id;
    c.subject = "00u-grace";
    c.existing_user_id = local;
    c.reason = "same userName";
    c.proposed_json = R"({"userName":"grace@acme.test"})";
    const auto first = ids().record_conflict(c, okta_client);
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST(first->connection_name == "okta-main");
    BOOST_TEST(first->existing_user_name == "grace@acme.test");
    const auto again = ids().record_conflict(c, okta_client);  // the IdP retried
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(again->id == first->id);
    BOOST_TEST(ids().list_conflicts(org.id, "pending").size() == 1u);

    const auto approved = ids().decide_conflict(org.id, first->id, true, admin);
    BOOST_TEST_REQUIRE(approved.has_value());
    BOOST_TEST(approved->status == "approved");
    BOOST_TEST(approved->decided.has_value());
    BOOST_TEST(ids().bound_user(okta.id, "00u-grace").value_or("") == local);
    BOOST_TEST(ids().decide_conflict(org.id, first->id, false, admin).error() == errc::already_used);
    BOOST_TEST(ids().list_conflicts(org.id, "pending").empty());
    BOOST_TEST(ids().list_conflicts(org.id, "").size() == 1u);
    BOOST_TEST(ids().get_conflict(org.id, "nope").error() == errc::not_found);
}

BOOST_AUTO_TEST_CASE(email_is_verified_by_an_accepted_invitation) {
    store::new_account d;
    d.user.organization_id = org.id;
    d.user.user_name = "invitee@acme.test";
    d.user.emails = {{"invitee@acme.test", "work", "", true}};
    schema::one_time_link l;
    l.purpose = schema::link_purpose::invitation;
    l.secret_hash = "invitation-digest";
    l.expires = clock.now() + std::chrono::hours(24);
    d.invitation = l;
    const auto id = db->local_accounts().create_accounts({d}, admin).value().front().profile.id;
    BOOST_TEST(!ids().email_verified(org.id, id));
    BOOST_TEST_REQUIRE(db->local_accounts()
                           .redeem_link("invitation-digest", schema::link_purpose::invitation,
                                        std::string("$argon2id$x"), admin)
                           .has_value());
    BOOST_TEST(ids().email_verified(org.id, id));
    BOOST_TEST(!ids().email_verified(org.id, owner_id));  // created with a password by an admin
}

BOOST_AUTO_TEST_CASE(sign_in_states_are_single_use_and_assertions_one_time) {
    store::sign_in_state s;
    s.id = "digest-of-state";
    s.organization_id = org.id;
    s.connection = "okta-saml";
    s.protocol = "saml";
    s.nonce = "_req1";
    s.return_to = "/app";
    s.created = clock.now();
    s.expires = clock.now() + std::chrono::minutes(10);
    BOOST_TEST_REQUIRE(ids().save_sign_in_state(s).has_value());
    const auto taken = ids().take_sign_in_state("digest-of-state");
    BOOST_TEST_REQUIRE(taken.has_value());
    BOOST_TEST(taken->nonce == "_req1");
    BOOST_TEST(taken->return_to == "/app");
    BOOST_TEST(ids().take_sign_in_state("digest-of-state").error() == errc::already_used);
    BOOST_TEST(ids().take_sign_in_state("never-issued").error() == errc::not_found);
    s.id = "old-state";
    s.expires = clock.now() + std::chrono::seconds(1);
    BOOST_TEST_REQUIRE(ids().save_sign_in_state(s).has_value());
    clock.advance(std::chrono::seconds(2));
    BOOST_TEST(ids().take_sign_in_state("old-state").error() == errc::expired);

    // One use per assertion and connection; another connection may see the same id.
    BOOST_TEST(ids().remember_assertion(okta.id, "_a1", clock.now() + std::chrono::minutes(5)).has_value());
    BOOST_TEST(ids().remember_assertion(okta.id, "_a1", clock.now() + std::chrono::minutes(5)).error() ==
               errc::already_used);
    BOOST_TEST(ids().remember_assertion(entra.id, "_a1", clock.now() + std::chrono::minutes(5)).has_value());
    clock.advance(std::chrono::minutes(10));
    BOOST_TEST(ids().prune_sign_in_states(clock.now()) >= 3);
    BOOST_TEST(ids().remember_assertion(okta.id, "_a1", clock.now() + std::chrono::minutes(5)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
