// SPDX-License-Identifier: AGPL-3.0-or-later
// The storage conformance suite: the same tests against every backend (see backend_context.hpp).
#include <atomic>
#include <set>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "../support/manual_clock.hpp"
#include "backend_context.hpp"
#include "store/provisioning.hpp"

namespace idgate::store {
// So that failed assertions print the error's name.
inline std::ostream& operator<<(std::ostream& out, errc e) { return out << make_error_code(e).message(); }
}  // namespace idgate::store

using namespace idgate;
using idgate::test::context;
using store::errc;

namespace {

const schema::actor admin{"instance_admin", "tok-1", "ops", "127.0.0.1", "req-1"};

struct fresh_store {
    test::manual_clock clock;
    std::unique_ptr<store::store> db;
    schema::organization org;

    fresh_store() : db(context().open_fresh(clock)) {
        db->migrate();
        org = make_org("acme");
    }

    schema::organization make_org(const std::string& slug) {
        schema::organization o;
        o.slug = slug;
        o.name = slug + " Inc.";
        return db->create_organization(o, admin).value();
    }

    schema::user make_user(const std::string& user_name, const std::string& org_id = {}) {
        schema::user u;
        u.organization_id = org_id.empty() ? org.id : org_id;
        u.user_name = user_name;
        u.name.given_name = "Given";
        u.name.family_name = "Family";
        u.display_name = user_name;
        u.emails = {{user_name + "@example.com", "work", "", true}, {user_name + "@home.example", "home", "", false}};
        u.phone_numbers = {{"+1 555 0100", "work", "", true}};
        return u;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(migrations)

// Migrations 7 and 8 hold statements for one backend (render_ddl's {sqlite_only}, {postgres_only}): the
// userName prefix index goes on both, each its own way; the audit trail's (organization_id, id) index
// becomes PostgreSQL's primary key and stays an index on SQLite; two indexes go on both.
BOOST_AUTO_TEST_CASE(a_backend_only_statement_runs_on_that_backend_alone) {
    test::manual_clock clock;
    auto db = context().open_fresh(clock);
    db->migrate();
    if (db->backend_name() == "sqlite") {
        BOOST_TEST(context().count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users_user_name_prefix'") == 0);
        BOOST_TEST(context().count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users_user_name'") == 1);
        BOOST_TEST(context().count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_records_org'") == 1);
    } else {
        const auto index = [](const char* name) {
            return context().count(std::string("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                                               "indexname = '") + name + "'");
        };
        BOOST_TEST(index("users_user_name_prefix") == 0);
        BOOST_TEST(index("audit_records_org") == 0);
        BOOST_TEST(context().count("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'audit_records_pkey' AND "
                                   "indexdef LIKE '%(organization_id, id)%'") == 1);
        // The folded userName compares byte-wise, so the unique index serves prefix searches.
        BOOST_TEST(context().count("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'users' AND "
                                   "column_name = 'user_name_folded' AND collation_name = 'C'") == 1);
    }
    for (const char* gone : {"change_events_at", "users_last_login"})
        BOOST_TEST(context().count("SELECT COUNT(*) FROM " + std::string(db->backend_name() == "sqlite"
                                                                              ? "sqlite_master WHERE name"
                                                                              : "pg_indexes WHERE indexname") +
                                   " = '" + gone + "'") == 0);
}

BOOST_AUTO_TEST_CASE(migrate_from_empty_then_rerun_is_a_no_op) {
    test::manual_clock clock;
    auto db = context().open_fresh(clock);
    BOOST_TEST(db->status().database_version == 0);
    const auto first = db->migrate();
    BOOST_TEST(first.current());
    BOOST_TEST(first.database_version >= 1);
    const auto again = db->migrate();
    BOOST_TEST(again.database_version == first.database_version);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM schema_migrations") == first.database_version);
    // The whole data model exists, empty but for the five built-in system roles.
    for (const char* table : {"organizations", "users", "user_emails", "user_phone_numbers", "directory_groups",
                              "group_members", "permissions", "role_permissions", "resource_scopes",
                              "role_assignments", "user_permissions", "idp_connections", "identity_bindings",
                              "api_tokens", "sessions", "audit_records", "change_sequences", "change_events",
                              "one_time_links", "login_events", "user_mfa", "mfa_recovery_codes"})
        BOOST_TEST(context().count(std::string("SELECT COUNT(*) FROM ") + table) == 0, table);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM roles WHERE kind = 'system' AND organization_id = ''") == 5);
}

BOOST_AUTO_TEST_CASE(concurrent_migrators_apply_each_migration_once) {
    test::manual_clock clock;
    auto a = context().open_fresh(clock);
    auto b = context().open_again(clock);
    std::thread t([&] { a->migrate(); });
    b->migrate();
    t.join();
    BOOST_TEST(a->status().current());
    BOOST_TEST(context().count("SELECT COUNT(*) FROM schema_migrations") == a->status().binary_version);
}

BOOST_AUTO_TEST_CASE(a_newer_database_is_refused_with_a_clear_message) {
    fresh_store f;
    context().execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')");
    BOOST_TEST(!f.db->status().current());
    try {
        f.db->migrate();
        BOOST_FAIL("expected schema_too_new");
    } catch (const store::schema_too_new& e) {
        BOOST_TEST(std::string(e.what()).find("version 999") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("newer") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(organizations)

BOOST_AUTO_TEST_CASE(create_get_find_list_and_unique_slug) {
    fresh_store f;
    BOOST_TEST(f.org.id.size() == 36u);
    BOOST_TEST(f.db->get_organization(f.org.id)->slug == "acme");
    BOOST_TEST(f.db->find_organization_by_slug("acme")->id == f.org.id);
    BOOST_TEST(f.db->find_organization_by_slug("nope").error() == errc::not_found);
    schema::organization dup;
    dup.slug = "acme";
    dup.name = "Other";
    BOOST_TEST(f.db->create_organization(dup, admin).error() == errc::already_exists);
    f.make_org("globex");
    BOOST_TEST(f.db->list_organizations().size() == 2u);
    // The failed create left no trace: one audit record and one event per successful create.
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records WHERE action = 'organization.create'") == 2);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM change_events") == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(users)

BOOST_AUTO_TEST_CASE(create_and_read_back_every_field) {
    fresh_store f;
    auto u = f.make_user("alice");
    u.external_id = "00ujl29u0le5T6Aj10h7";
    u.title = "Engineer";
    u.department = "R&D";
    u.locale = "en-US";
    u.extensions_json = R"({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42"}})";
    const auto created = f.db->create_user(u, admin).value();
    BOOST_TEST(created.id.size() == 36u);
    BOOST_TEST(created.version == 1);
    const auto got = f.db->get_user(f.org.id, created.id).value();
    BOOST_TEST(got.user_name == "alice");
    BOOST_TEST(got.external_id == "00ujl29u0le5T6Aj10h7");
    BOOST_TEST(got.name.given_name == "Given");
    BOOST_TEST(got.title == "Engineer");
    BOOST_TEST(got.department == "R&D");
    BOOST_TEST(got.extensions_json == u.extensions_json);
    BOOST_TEST((got.created == f.clock.now()));
    BOOST_REQUIRE(got.emails.size() == 2u);
    BOOST_TEST(got.emails[0].value == "alice@example.com");
    BOOST_TEST(got.emails[0].primary);
    BOOST_TEST(got.emails[1].type == "home");
    BOOST_REQUIRE(got.phone_numbers.size() == 1u);
    BOOST_TEST(got.phone_numbers[0].value == "+1 555 0100");
}

BOOST_AUTO_TEST_CASE(user_name_is_unique_case_insensitively_per_organization) {
    fresh_store f;
    f.db->create_user(f.make_user("Alice"), admin).value();
    const auto emails = context().count("SELECT COUNT(*) FROM user_emails");
    BOOST_TEST(f.db->create_user(f.make_user("alice"), admin).error() == errc::already_exists);
    BOOST_TEST(f.db->create_user(f.make_user("ALICE"), admin).error() == errc::already_exists);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM user_emails") == emails);
    BOOST_TEST(f.db->find_user_by_user_name(f.org.id, "aLiCe")->user_name == "Alice");
    // Another organisation may have its own alice.
    const auto other = f.make_org("globex");
    BOOST_TEST(f.db->create_user(f.make_user("alice", other.id), admin).has_value());
    // And is invisible from the first one.
    BOOST_TEST(f.db->get_user(f.org.id, f.db->find_user_by_user_name(other.id, "alice")->id).error() ==
               errc::not_found);
    // The refused creates left nothing: on PostgreSQL their INSERT, emails and audit record travelled in
    // one pipeline with BEGIN and COMMIT, and the unique violation skipped the rest of it.
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records WHERE action = 'user.create'") == 2);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM change_events WHERE type = 'user.created'") == 2);
    // The same connections go on working, in and out of transactions.
    BOOST_TEST(f.db->create_user(f.make_user("bob"), admin).has_value());
    BOOST_TEST(f.db->find_user_by_user_name(f.org.id, "BOB").has_value());
}

BOOST_AUTO_TEST_CASE(emails_are_never_unique) {
    fresh_store f;
    auto a = f.make_user("a");
    auto b = f.make_user("b");
    b.emails = a.emails;
    BOOST_TEST(f.db->create_user(a, admin).has_value());
    BOOST_TEST(f.db->create_user(b, admin).has_value());
}

BOOST_AUTO_TEST_CASE(update_is_compare_and_swap_on_version) {
    fresh_store f;
    auto u = f.db->create_user(f.make_user("bob"), admin).value();
    f.clock.advance(std::chrono::seconds(5));
    u.title = "Manager";
    u.emails = {{"bob@corp.example", "work", "", true}};
    const auto v2 = f.db->update_user(u, 1, admin).value();
    BOOST_TEST(v2.version == 2);
    BOOST_TEST((v2.updated == f.clock.now()));
    BOOST_TEST((v2.created == u.created));
    const auto read = f.db->get_user(f.org.id, u.id).value();
    BOOST_TEST(read.title == "Manager");
    BOOST_REQUIRE(read.emails.size() == 1u);
    BOOST_TEST(read.emails[0].value == "bob@corp.example");
    // A writer still holding version 1 loses, and changes nothing.
    u.title = "Stale";
    BOOST_TEST(f.db->update_user(u, 1, admin).error() == errc::version_mismatch);
    BOOST_TEST(f.db->get_user(f.org.id, u.id)->title == "Manager");
    u.id = "00000000-0000-4000-8000-000000000000";
    BOOST_TEST(f.db->update_user(u, 2, admin).error() == errc::not_found);
}

BOOST_AUTO_TEST_CASE(deactivation_ends_every_session_of_that_user_only) {
    fresh_store f;
    auto u = f.db->create_user(f.make_user("sam"), admin).value();
    const auto other = f.db->create_user(f.make_user("kim"), admin).value();
    for (const schema::user* who : {static_cast<const schema::user*>(&u), &other})
        for (int i = 0; i < 2; ++i)
            context().execute("INSERT INTO sessions (id, organization_id, user_id, secret_hash, created_at, expires_at, "
                              "last_seen_at) VALUES ('" + who->user_name + std::to_string(i) + "', '" + f.org.id +
                              "', '" + who->id + "', 'h" + who->user_name + std::to_string(i) + "', 'x', 'x', 'x')");
    u.title = "still active";
    u = f.db->update_user(u, u.version, admin).value();
    BOOST_TEST(context().count("SELECT COUNT(*) FROM sessions") == 4);
    u.active = false;
    f.db->update_user(u, u.version, admin).value();
    BOOST_TEST(context().count("SELECT COUNT(*) FROM sessions WHERE user_id = '" + u.id + "'") == 0);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM sessions WHERE user_id = '" + other.id + "'") == 2);
}

BOOST_AUTO_TEST_CASE(failed_update_rolls_back_completely) {
    fresh_store f;
    f.db->create_user(f.make_user("carol"), admin).value();
    auto dave = f.db->create_user(f.make_user("dave"), admin).value();
    const auto audits = context().count("SELECT COUNT(*) FROM audit_records");
    const auto events = context().count("SELECT COUNT(*) FROM change_events");
    dave.user_name = "CAROL";  // taken
    dave.emails.clear();       // would be written after the failing statement... or before
    BOOST_TEST(f.db->update_user(dave, 1, admin).error() == errc::already_exists);
    const auto after = f.db->get_user(f.org.id, dave.id).value();
    BOOST_TEST(after.user_name == "dave");
    BOOST_TEST(after.emails.size() == 2u);
    BOOST_TEST(after.version == 1);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records") == audits);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM change_events") == events);
}

BOOST_AUTO_TEST_CASE(create_in_a_missing_organization_writes_nothing) {
    fresh_store f;
    const auto audits = context().count("SELECT COUNT(*) FROM audit_records");
    auto u = f.make_user("ghost", "00000000-0000-4000-8000-000000000000");
    BOOST_TEST(f.db->create_user(u, admin).error() == errc::not_found);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM users") == 0);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM user_emails") == 0);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records") == audits);
}

BOOST_AUTO_TEST_CASE(a_conditional_delete_checks_the_version_in_its_transaction) {
    fresh_store f;
    auto u = f.db->create_user(f.make_user("vera"), admin).value();
    u.title = "changed";
    BOOST_TEST(f.db->update_user(u, 1, admin).has_value());  // now at version 2
    BOOST_TEST(f.db->delete_user(f.org.id, u.id, 1, admin).error() == errc::version_mismatch);
    BOOST_TEST(f.db->get_user(f.org.id, u.id).has_value());
    BOOST_TEST(f.db->delete_user(f.org.id, u.id, 2, admin).has_value());
    schema::group g;
    g.organization_id = f.org.id;
    g.display_name = "Team";
    const auto created = f.db->create_group(g, {}, admin).value();
    BOOST_TEST(f.db->delete_group(f.org.id, created.id, 7, admin).error() == errc::version_mismatch);
    BOOST_TEST(f.db->delete_group(f.org.id, created.id, created.version, admin).has_value());
}

BOOST_AUTO_TEST_CASE(delete_removes_the_user_but_keeps_its_audit_history) {
    fresh_store f;
    const auto u = f.db->create_user(f.make_user("erin"), admin).value();
    BOOST_TEST(f.db->delete_user(f.org.id, u.id, std::nullopt, admin).has_value());
    BOOST_TEST(f.db->get_user(f.org.id, u.id).error() == errc::not_found);
    BOOST_TEST(f.db->delete_user(f.org.id, u.id, std::nullopt, admin).error() == errc::not_found);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM user_emails") == 0);
    const auto audit = f.db->list_audit(f.org.id, 0, 100);
    BOOST_REQUIRE(audit.size() >= 2u);
    BOOST_TEST(audit.back().action == "user.delete");
    BOOST_TEST(audit.back().target_id == u.id);
    BOOST_TEST(audit.back().target_display == "erin");
    BOOST_TEST(audit.back().actor.display == "ops");
    BOOST_TEST(audit.back().actor.request_id == "req-1");
}

BOOST_AUTO_TEST_CASE(list_pages_in_a_stable_order_with_total) {
    fresh_store f;
    std::vector<std::string> ids;
    for (int i = 0; i < 25; ++i) {
        ids.push_back(f.db->create_user(f.make_user("user" + std::to_string(i)), admin)->id);
        if (i % 3 == 0) f.clock.advance(std::chrono::milliseconds(1));  // some share a timestamp
    }
    std::vector<std::string> walked;
    for (std::int64_t offset = 0;; offset += 10) {
        const auto page = f.db->list_users(f.org.id, offset, 10);
        BOOST_TEST(page.total == 25);
        for (const auto& u : page.users) {
            walked.push_back(u.id);
            BOOST_TEST(u.emails.size() == 2u);
        }
        if (page.users.size() < 10) break;
    }
    BOOST_TEST(walked.size() == 25u);
    std::set<std::string> unique(walked.begin(), walked.end());
    BOOST_TEST(unique.size() == 25u);
    BOOST_TEST(f.db->list_users(f.org.id, 0, 0).users.empty());
    BOOST_TEST(f.db->list_users(f.org.id, 0, 0).total == 25);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(concurrent_inserts_of_the_same_user_name_admit_exactly_one) {
    fresh_store f;
    constexpr int threads = 6, names = 20;
    std::atomic<int> created{0}, conflicts{0}, other{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int n = 0; n < names; ++n) {
                // Vary the case: uniqueness is case-insensitive.
                std::string name = "racer" + std::to_string(n);
                if (t % 2) name[0] = 'R';
                auto r = f.db->create_user(f.make_user(name), admin);
                if (r) ++created;
                else if (r.error() == errc::already_exists) ++conflicts;
                else ++other;
            }
        });
    }
    for (auto& t : pool) t.join();
    BOOST_TEST(created.load() == names);
    BOOST_TEST(conflicts.load() == names * (threads - 1));
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM users") == names);
}

// The writes waiting together run in one transaction, each in its own savepoint (store/src/write_batch.hpp):
// on SQLite all of them, on PostgreSQL those beyond its concurrent write transactions (2 by default, so
// eight writers share). Each write keeps its own outcome. Here a refused write fails after it has written:
// through an IdP connection, the user row goes in before the identity binding that collides, and that row
// must go with the refusal. On PostgreSQL the collision surfaces only when the batch's pipeline is sent,
// failing the shared transaction: its writes run again, each alone.
// Idle pool connections close down to the minimum (two by default) and open again under load, which then
// runs as it would have: every write lands, every read answers (store/src/pool.hpp).
BOOST_AUTO_TEST_CASE(idle_connections_close_and_the_store_opens_them_again_under_load) {
    fresh_store f;
    const auto size = f.db->stats().size;
    BOOST_TEST(size > 2u);
    BOOST_TEST(f.db->stats().open == size);
    BOOST_TEST(f.db->close_idle_connections(std::chrono::steady_clock::now()) == 0u);
    BOOST_TEST(f.db->close_idle_connections(std::chrono::steady_clock::now() + std::chrono::minutes(2)) == size - 2);
    BOOST_TEST(f.db->stats().open == 2u);
    constexpr int threads = 8, per_thread = 20;
    std::atomic<int> created{0}, read_back{0}, failed{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto r = f.db->create_user(f.make_user("idle-" + std::to_string(t) + "-" + std::to_string(i)), admin);
                if (!r) {
                    ++failed;
                    continue;
                }
                ++created;
                if (f.db->get_user(f.org.id, r->id)) ++read_back;
            }
        });
    for (auto& t : pool) t.join();
    BOOST_TEST(failed.load() == 0);
    BOOST_TEST(created.load() == threads * per_thread);
    BOOST_TEST(read_back.load() == threads * per_thread);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM users WHERE user_name LIKE 'idle-%'") == threads * per_thread);
    const auto open = f.db->stats().open;
    BOOST_TEST(open >= 2u);
    BOOST_TEST(open <= size);
    BOOST_TEST(f.db->stats().in_use == 0u);
    BOOST_TEST(f.db->close_idle_connections(std::chrono::steady_clock::now() + std::chrono::minutes(2)) == open - 2);
    BOOST_CHECK_NO_THROW(f.db->ping());
}

BOOST_AUTO_TEST_CASE(concurrent_writes_keep_their_own_outcomes_when_committed_together) {
    fresh_store f;
    const auto connection = f.db->identities().ensure_connection(f.org.id, "okta", admin).value();
    schema::actor push = admin;
    push.kind = "scim_client";
    push.connection_id = connection.id;
    constexpr int threads = 8, per_thread = 30;
    const auto before = f.db->stats();
    std::atomic<int> created{0}, refused{0}, other{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto u = f.make_user("batch-" + std::to_string(t) + "-" + std::to_string(i));
                // Every third external id is pushed by every thread: one binding wins, the rest collide.
                u.external_id = i % 3 == 0 ? "shared-" + std::to_string(i) : u.user_name;
                auto r = f.db->create_user(u, push);
                if (r) ++created;
                else if (r.error() == errc::already_exists) ++refused;
                else ++other;
            }
        });
    for (auto& t : pool) t.join();
    constexpr int shared = per_thread / 3, expected = threads * (per_thread - shared) + shared;
    BOOST_TEST(created.load() == expected);
    BOOST_TEST(refused.load() == threads * per_thread - expected);
    BOOST_TEST(other.load() == 0);
    // Nothing of a refused write stays, nothing of an admitted one is lost.
    BOOST_TEST(context().count("SELECT COUNT(*) FROM users") == expected);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM user_emails") == 2 * expected);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM identity_bindings") == expected);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records WHERE action = 'user.create'") == expected);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM change_events WHERE type = 'user.created'") == expected);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM users u JOIN identity_bindings b ON b.user_id = u.id") == expected);
    // Only admitted writes count as committed; eight writers at once: some of them shared a commit.
    const auto stats = f.db->stats();
    const auto writes = stats.group_committed_writes - before.group_committed_writes;
    const auto commits = stats.group_commits - before.group_commits;
    BOOST_TEST(writes == static_cast<std::uint64_t>(expected));
    BOOST_TEST(commits < writes);
}

BOOST_AUTO_TEST_CASE(concurrent_read_modify_write_loses_no_update) {
    fresh_store f;
    const auto u = f.db->create_user(f.make_user("counter"), admin).value();
    constexpr int threads = 4, increments = 15;
    std::atomic<int> conflicts{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < increments; ++i) {
                for (;;) {
                    auto current = f.db->get_user(f.org.id, u.id).value();
                    current.nick_name = std::to_string(current.nick_name.empty() ? 1 : std::stoi(current.nick_name) + 1);
                    auto r = f.db->update_user(current, current.version, admin);
                    if (r) break;
                    BOOST_TEST_REQUIRE((r.error() == errc::version_mismatch));
                    ++conflicts;
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    const auto final_user = f.db->get_user(f.org.id, u.id).value();
    BOOST_TEST(final_user.nick_name == std::to_string(threads * increments));
    BOOST_TEST(final_user.version == 1 + threads * increments);
}

// Writes sharing a transaction hold their row locks until its commit, so two shared transactions can lock
// the same rows in opposite orders and wait for each other (PostgreSQL; SQLite has one writer). Such a
// batch gives up its locks (write_batch.hpp) and its writes run again, each alone: every change lands once,
// none is refused, none is lost.
BOOST_AUTO_TEST_CASE(writes_locking_the_same_rows_in_opposite_orders_all_land) {
    fresh_store f;
    constexpr int users = 3, threads = 8, per_thread = 20;
    std::vector<std::string> ids;
    for (int i = 0; i < users; ++i) ids.push_back(f.db->create_user(f.make_user("hot" + std::to_string(i)), admin).value().id);
    std::atomic<int> failed{0};
    std::vector<int> expected(users, 0);
    std::vector<std::vector<int>> plan(threads);
    for (int t = 0; t < threads; ++t)
        for (int i = 0; i < per_thread; ++i) {
            plan[t].push_back((t * 7 + i * (t % 2 ? 1 : 2)) % users);  // threads walk the rows in different orders
            ++expected[plan[t].back()];
        }
    const auto before = f.db->stats();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (const int target : plan[t]) {
                auto r = f.db->modify_user(
                    f.org.id, ids[target],
                    [](schema::user& x) { x.nick_name = std::to_string(x.nick_name.empty() ? 1 : std::stoi(x.nick_name) + 1); },
                    admin);
                if (!r) ++failed;
            }
        });
    for (auto& t : pool) t.join();
    BOOST_TEST(failed.load() == 0);
    for (int i = 0; i < users; ++i) {
        const auto u = f.db->get_user(f.org.id, ids[i]).value();
        BOOST_TEST(u.nick_name == std::to_string(expected[i]));
        BOOST_TEST(u.version == 1 + expected[i]);
    }
    const auto stats = f.db->stats();
    BOOST_TEST(stats.group_committed_writes - before.group_committed_writes == static_cast<std::uint64_t>(threads * per_thread));
}

// On PostgreSQL a shared batch of changes to different users sends their locks and reads together, before
// any of them runs (write_batch.hpp). Each change must still get its own user as stored, and its own
// outcome: a change to a user that does not exist is not_found, and takes nothing of the others with it.
BOOST_AUTO_TEST_CASE(changes_to_different_users_read_ahead_together_and_each_gets_its_own_user) {
    fresh_store f;
    constexpr int threads = 8, per_thread = 25;
    std::vector<schema::user> users;
    for (int i = 0; i < threads * per_thread; ++i)
        users.push_back(f.db->create_user(f.make_user("ahead" + std::to_string(i)), admin).value());
    const auto before = f.db->stats();
    std::atomic<int> changed{0}, missing{0}, wrong{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const int target = t * per_thread + i;
                // Every fifth change is to a user that does not exist.
                const std::string id = i % 5 == 4 ? "missing-" + std::to_string(target) : users[target].id;
                auto r = f.db->modify_user(
                    f.org.id, id,
                    [target](schema::user& x) {
                        x.nick_name = "n-" + x.user_name;
                        x.phone_numbers.push_back({"+1 555 " + std::to_string(target), "work", "", false});
                    },
                    admin);
                if (i % 5 == 4) {
                    if (!r && r.error() == errc::not_found) ++missing;
                    else ++wrong;
                } else if (r && r->id == users[target].id && r->nick_name == "n-" + users[target].user_name &&
                           r->phone_numbers.size() == 2u && r->phone_numbers.back().value == "+1 555 " + std::to_string(target) &&
                           r->emails.size() == 2u && r->version == 2) {
                    ++changed;
                } else {
                    ++wrong;
                }
            }
        });
    for (auto& t : pool) t.join();
    constexpr int expected = threads * per_thread * 4 / 5;
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(changed.load() == expected);
    BOOST_TEST(missing.load() == threads * per_thread - expected);
    for (int target = 0; target < threads * per_thread; ++target) {
        const auto u = f.db->get_user(f.org.id, users[target].id).value();
        if (target % per_thread % 5 == 4) {
            BOOST_TEST(u.version == 1);
            continue;
        }
        BOOST_TEST(u.nick_name == "n-" + users[target].user_name);
        BOOST_TEST_REQUIRE(u.phone_numbers.size() == 2u);  // the one it was created with, and the change's
        BOOST_TEST(u.phone_numbers[1].value == "+1 555 " + std::to_string(target));
    }
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records WHERE action = 'user.update'") == expected);
    const auto stats = f.db->stats();
    BOOST_TEST(stats.group_committed_writes - before.group_committed_writes == static_cast<std::uint64_t>(expected));
    if (f.db->backend_name() == "postgres")
        BOOST_TEST(stats.read_ahead_batches > before.read_ahead_batches);  // eight writers at once: some batches shared
    else
        BOOST_TEST(stats.read_ahead_batches == 0u);  // SQLite has no round trips to save
}

BOOST_AUTO_TEST_CASE(modify_user_serialises_concurrent_changes_without_conflicts) {
    fresh_store f;
    const auto u = f.db->create_user(f.make_user("locked"), admin).value();
    constexpr int threads = 4, increments = 10;
    std::vector<std::thread> pool;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < increments; ++i) {
                auto r = f.db->modify_user(
                    f.org.id, u.id,
                    [](schema::user& x) {
                        x.nick_name = std::to_string(x.nick_name.empty() ? 1 : std::stoi(x.nick_name) + 1);
                        // Child rows too: PostgreSQL must not hand `change` a stale set of them.
                        x.phone_numbers.push_back({"+1 555 " + x.nick_name, "work", "", false});
                    },
                    admin);
                if (!r) ++failures;
            }
        });
    for (auto& t : pool) t.join();
    BOOST_TEST(failures.load() == 0);
    const auto final_user = f.db->get_user(f.org.id, u.id).value();
    BOOST_TEST(final_user.nick_name == std::to_string(threads * increments));
    BOOST_TEST(final_user.phone_numbers.size() == 1u + threads * increments);
}

BOOST_AUTO_TEST_CASE(modify_user_that_throws_writes_nothing) {
    fresh_store f;
    const auto u = f.db->create_user(f.make_user("untouched"), admin).value();
    const auto audits = context().count("SELECT COUNT(*) FROM audit_records");
    BOOST_CHECK_THROW(f.db->modify_user(
                          f.org.id, u.id,
                          [](schema::user& x) {
                              x.title = "half-done";
                              throw std::invalid_argument("client mistake");
                          },
                          admin),
                      std::invalid_argument);
    BOOST_TEST(f.db->get_user(f.org.id, u.id)->title.empty());
    BOOST_TEST(f.db->get_user(f.org.id, u.id)->version == 1);
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records") == audits);
    BOOST_TEST(f.db->modify_user(f.org.id, "00000000-0000-4000-8000-000000000000", [](schema::user&) {}, admin).error() ==
               errc::not_found);
}

BOOST_AUTO_TEST_CASE(change_sequence_is_gap_free_under_concurrent_writers) {
    fresh_store f;
    constexpr int threads = 4, each = 10;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < each; ++i)
                f.db->create_user(f.make_user("w" + std::to_string(t) + "_" + std::to_string(i)), admin).value();
        });
    for (auto& t : pool) t.join();
    const auto events = f.db->list_changes(f.org.id, 0, 1000);
    BOOST_REQUIRE(events.size() == 1u + threads * each);  // + organization.created
    for (std::size_t i = 0; i < events.size(); ++i) BOOST_TEST(events[i].sequence == static_cast<std::int64_t>(i + 1));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(change_feed_and_tokens)

BOOST_AUTO_TEST_CASE(each_organization_has_its_own_sequence_and_pruning_keeps_counting) {
    fresh_store f;
    const auto other = f.make_org("globex");
    f.db->create_user(f.make_user("a"), admin).value();
    f.db->create_user(f.make_user("b", other.id), admin).value();
    auto mine = f.db->list_changes(f.org.id, 0, 100);
    BOOST_REQUIRE(mine.size() == 2u);
    BOOST_TEST(mine[0].type == "organization.created");
    BOOST_TEST(mine[1].type == "user.created");
    BOOST_TEST(mine[1].sequence == 2);
    BOOST_TEST(f.db->list_changes(other.id, 0, 100).size() == 2u);
    BOOST_TEST(f.db->list_changes(f.org.id, 1, 100).size() == 1u);

    f.clock.advance(std::chrono::hours(48));
    BOOST_TEST(f.db->prune_changes(f.clock.now() - std::chrono::hours(24)) == 4);
    BOOST_TEST(f.db->list_changes(f.org.id, 0, 100).empty());
    f.db->create_user(f.make_user("c"), admin).value();
    const auto after = f.db->list_changes(f.org.id, 0, 100);
    BOOST_REQUIRE(after.size() == 1u);
    BOOST_TEST(after[0].sequence == 3);  // sequences never restart

    // Pruning stops at the first event young enough to keep.
    f.clock.advance(std::chrono::hours(48));
    f.db->create_user(f.make_user("d"), admin).value();
    f.db->create_user(f.make_user("e", other.id), admin).value();
    f.db->list_changes(f.org.id, 0, 100);  // numbered
    BOOST_TEST(f.db->prune_changes(f.clock.now() - std::chrono::hours(24)) == 1);  // c's event
    const auto kept = f.db->list_changes(f.org.id, 0, 100);
    BOOST_REQUIRE(kept.size() == 1u);
    BOOST_TEST(kept[0].sequence == 4);
    BOOST_TEST(f.db->list_changes(other.id, 0, 100).size() == 1u);
}

// The relay numbers up to 1,000 events per statement: a backlog of more, interleaved between two
// organisations, comes out gap-free and in write order for each.
BOOST_AUTO_TEST_CASE(a_backlog_larger_than_one_batch_is_numbered_per_organization_in_order) {
    fresh_store f;
    const auto other = f.make_org("globex");
    constexpr int each = 600;
    for (int i = 0; i < each; ++i) {
        f.db->create_user(f.make_user("a" + std::to_string(i)), admin).value();
        f.db->create_user(f.make_user("b" + std::to_string(i), other.id), admin).value();
    }
    for (const auto& org : {f.org.id, other.id}) {
        const auto events = f.db->list_changes(org, 0, 10'000);
        BOOST_REQUIRE(events.size() == 1u + each);
        for (std::size_t i = 0; i < events.size(); ++i) BOOST_TEST(events[i].sequence == static_cast<std::int64_t>(i + 1));
        for (int i = 0; i < each; ++i)
            BOOST_TEST(events[static_cast<std::size_t>(i) + 1].resource_id ==
                       f.db->find_user_by_user_name(org, (org == f.org.id ? "a" : "b") + std::to_string(i))->id);
    }
}

BOOST_AUTO_TEST_CASE(tokens_are_found_by_digest_until_revoked) {
    fresh_store f;
    schema::api_token t;
    t.kind = schema::token_kind::instance_admin;
    t.name = "ops";
    t.secret_hash = std::string(64, 'a');
    t.expires = f.clock.now() + std::chrono::hours(1);
    const auto created = f.db->create_token(t, admin).value();
    BOOST_TEST(f.db->count_active_tokens(schema::token_kind::instance_admin) == 1);
    BOOST_TEST(f.db->count_active_tokens(schema::token_kind::scim) == 0);
    const auto found = f.db->find_token_by_hash(std::string(64, 'a'));
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == created.id);
    BOOST_TEST((found->expires == t.expires));
    BOOST_TEST(!f.db->find_token_by_hash(std::string(64, 'b')).has_value());
    auto same_digest = t;
    BOOST_TEST(f.db->create_token(same_digest, admin).error() == errc::already_exists);
    BOOST_TEST(f.db->revoke_token(created.id, admin).has_value());
    BOOST_TEST(!f.db->find_token_by_hash(std::string(64, 'a')).has_value());
    BOOST_TEST(f.db->revoke_token(created.id, admin).error() == errc::not_found);
    BOOST_TEST(f.db->count_active_tokens(schema::token_kind::instance_admin) == 0);
    // The digest is never written into the audit trail.
    BOOST_TEST(context().count("SELECT COUNT(*) FROM audit_records WHERE details LIKE '%aaaaaaaa%'") == 0);
}

BOOST_AUTO_TEST_CASE(ping_and_pool_stats) {
    fresh_store f;
    BOOST_CHECK_NO_THROW(f.db->ping());
    const auto s = f.db->stats();
    BOOST_TEST(s.size >= 1u);
    BOOST_TEST(s.in_use == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// The filter table: the same filters on the same users, on every backend, with the same expected
// results. A filter is parsed by the test itself (a tiny builder) so this suite depends only on the
// storage interface.
#include "schema/filter.hpp"

namespace {

using schema::compare_op;
using schema::filter_ptr;

filter_ptr node(schema::filter f) { return std::make_shared<const schema::filter>(std::move(f)); }
schema::attribute_path path(std::string a, std::string sub = {}, std::string urn = {}) {
    return {std::move(urn), std::move(a), std::move(sub)};
}
filter_ptr cmp(schema::attribute_path p, compare_op op, std::string value) {
    schema::filter_value v;
    v.type = schema::filter_value::kind::string;
    v.text = std::move(value);
    return node({schema::comparison{std::move(p), op, v}});
}
filter_ptr cmp_bool(schema::attribute_path p, compare_op op, bool b) {
    schema::filter_value v;
    v.type = schema::filter_value::kind::boolean;
    v.boolean = b;
    return node({schema::comparison{std::move(p), op, v}});
}
filter_ptr present(schema::attribute_path p) { return node({schema::comparison{std::move(p), compare_op::pr, {}}}); }
filter_ptr both(filter_ptr a, filter_ptr b) { return node({schema::logical{schema::logical::kind::and_, a, b}}); }
filter_ptr either(filter_ptr a, filter_ptr b) { return node({schema::logical{schema::logical::kind::or_, a, b}}); }
filter_ptr negate(filter_ptr a) { return node({schema::negation{a}}); }
filter_ptr within(schema::attribute_path p, filter_ptr inner) { return node({schema::value_path{std::move(p), inner}}); }

struct filter_fixture : fresh_store {
    filter_fixture() {
        add("Alice", "Smith", "Engineer", true, {{"alice@Example.com", "work", "", true}}, "ext-1");
        add("bob", "Jones", "Manager", false, {{"bob@example.org", "home", "", true}}, "EXT-2");
        add("carol_x", "O'Malley", "", true, {{"carol@example.com", "home", "", false}, {"c@work.net", "work", "", true}}, "");
        add("dave%", "Smithers", "engineer", true, {}, "ext-4");
    }
    void add(std::string name, std::string family, std::string title, bool active,
             std::vector<schema::multi_value> emails, std::string external) {
        auto u = make_user(name);
        u.name.family_name = std::move(family);
        u.title = std::move(title);
        u.active = active;
        u.emails = std::move(emails);
        u.external_id = std::move(external);
        db->create_user(u, admin).value();
        clock.advance(std::chrono::seconds(1));
    }
    std::string names(filter_ptr f, std::string sort_by = {}, bool descending = false) {
        store::user_query q;
        q.organization_id = org.id;
        q.filter = std::move(f);
        q.sort_by = std::move(sort_by);
        q.descending = descending;
        auto page = db->find_users(q);
        if (!page) return "error: " + page.error().message();
        std::string out;
        for (const auto& u : page->users) out += (out.empty() ? "" : ",") + u.user_name;
        if (static_cast<std::size_t>(page->total) != page->users.size()) out += " (total mismatch)";
        return out;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(filters, filter_fixture)

BOOST_AUTO_TEST_CASE(string_operators_respect_case_exactness) {
    BOOST_TEST(names(cmp(path("userName"), compare_op::eq, "ALICE")) == "Alice");  // caseExact=false
    BOOST_TEST(names(cmp(path("externalId"), compare_op::eq, "ext-2")) == "");     // caseExact=true
    BOOST_TEST(names(cmp(path("externalId"), compare_op::eq, "EXT-2")) == "bob");
    BOOST_TEST(names(cmp(path("externalId"), compare_op::sw, "ext")) == "Alice,dave%");
    BOOST_TEST(names(cmp(path("name", "familyName"), compare_op::sw, "smith")) == "Alice,dave%");
    BOOST_TEST(names(cmp(path("name", "familyName"), compare_op::co, "'mal")) == "carol_x");
    BOOST_TEST(names(cmp(path("title"), compare_op::eq, "ENGINEER")) == "Alice,dave%");
    BOOST_TEST(names(cmp(path("userName"), compare_op::ew, "OB")) == "bob");
    BOOST_TEST(names(cmp(path("userName"), compare_op::ne, "bob")) == "Alice,carol_x,dave%");
    BOOST_TEST(names(cmp(path("userName"), compare_op::gt, "bob")) == "carol_x,dave%");
    // Unassigned values (carol has no title) match no ordering or substring comparison; ne matches them.
    BOOST_TEST(names(cmp(path("title"), compare_op::lt, "M")) == "Alice,dave%");
    BOOST_TEST(names(cmp(path("title"), compare_op::ew, "")) == "Alice,bob,dave%");
    BOOST_TEST(names(cmp(path("title"), compare_op::ne, "manager")) == "Alice,carol_x,dave%");
    BOOST_TEST(names(cmp(path("userName", "", "urn:ietf:params:scim:schemas:core:2.0:User"), compare_op::eq, "bob")) ==
               "bob");
}

BOOST_AUTO_TEST_CASE(like_wildcards_in_values_are_literal) {
    BOOST_TEST(names(cmp(path("userName"), compare_op::co, "_")) == "carol_x");
    BOOST_TEST(names(cmp(path("userName"), compare_op::co, "%")) == "dave%");
    BOOST_TEST(names(cmp(path("userName"), compare_op::sw, "%")) == "");
}

BOOST_AUTO_TEST_CASE(presence_booleans_and_logic) {
    BOOST_TEST(names(present(path("title"))) == "Alice,bob,dave%");
    BOOST_TEST(names(present(path("emails"))) == "Alice,bob,carol_x");
    BOOST_TEST(names(cmp_bool(path("active"), compare_op::eq, false)) == "bob");
    BOOST_TEST(names(both(present(path("title")), cmp_bool(path("active"), compare_op::eq, true))) == "Alice,dave%");
    BOOST_TEST(names(either(cmp(path("userName"), compare_op::eq, "bob"),
                            cmp(path("userName"), compare_op::eq, "carol_x"))) == "bob,carol_x");
    BOOST_TEST(names(negate(present(path("title")))) == "carol_x");
}

BOOST_AUTO_TEST_CASE(multi_valued_attributes_and_value_filters) {
    BOOST_TEST(names(cmp(path("emails", "value"), compare_op::eq, "ALICE@example.com")) == "Alice");
    BOOST_TEST(names(cmp(path("emails"), compare_op::co, "example.com")) == "Alice,carol_x");
    BOOST_TEST(names(cmp(path("emails", "type"), compare_op::eq, "work")) == "Alice,carol_x");
    // The same element must match both conditions: carol's work email is not at example.com.
    BOOST_TEST(names(within(path("emails"), both(cmp(path("type"), compare_op::eq, "work"),
                                                  cmp(path("value"), compare_op::co, "example.com")))) == "Alice");
    BOOST_TEST(names(within(path("emails"), cmp_bool(path("primary"), compare_op::eq, false))) == "carol_x");
}

BOOST_AUTO_TEST_CASE(date_times_compare_in_time_order) {
    // Users were created one second apart from 2026-01-01T00:00:00Z.
    BOOST_TEST(names(cmp(path("meta", "created"), compare_op::ge, "2026-01-01T00:00:02Z")) == "carol_x,dave%");
    BOOST_TEST(names(cmp(path("meta", "created"), compare_op::lt, "2026-01-01T00:00:01.000Z")) == "Alice");
}

BOOST_AUTO_TEST_CASE(sorting_is_stable_and_reversible) {
    BOOST_TEST(names(nullptr, "userName") == "Alice,bob,carol_x,dave%");
    BOOST_TEST(names(nullptr, "userName", true) == "dave%,carol_x,bob,Alice");
    BOOST_TEST(names(nullptr, "name.familyName") == "bob,carol_x,Alice,dave%");
    BOOST_TEST(names(nullptr, "meta.created", true) == "dave%,carol_x,bob,Alice");
}

BOOST_AUTO_TEST_CASE(unknown_or_mistyped_attributes_are_refused_never_dropped) {
    const std::pair<filter_ptr, const char*> refused[] = {
        {cmp(path("nosuch"), compare_op::eq, "x"), "cannot be filtered"},
        {both(cmp(path("userName"), compare_op::eq, "bob"), cmp(path("password"), compare_op::eq, "x")),
         "cannot be filtered"},
        {cmp(path("userName", "", "urn:example:custom"), compare_op::eq, "x"), "cannot be filtered"},
        {cmp(path("active"), compare_op::eq, "true"), "boolean"},
        {cmp_bool(path("userName"), compare_op::eq, true), "string"},
        {cmp(path("meta", "created"), compare_op::gt, "yesterday"), "dateTime"},
        {within(path("title"), present(path("value"))), "[...]"},
        {within(path("emails"), present(path("nosuch"))), "sub-attribute"},
    };
    for (const auto& [f, reason] : refused) {
        store::user_query q;
        q.organization_id = org.id;
        q.filter = f;
        const auto why = store::validate(q);
        BOOST_TEST_REQUIRE(why.has_value(), schema::to_sexpr(*f));
        BOOST_TEST(why->find(reason) != std::string::npos, *why);
        BOOST_TEST(db->find_users(q).error() == errc::not_supported);
    }
    store::user_query q;
    q.organization_id = org.id;
    q.sort_by = "emails";
    BOOST_TEST(store::validate(q).has_value());
}

BOOST_AUTO_TEST_CASE(extension_attributes_filter_by_their_declared_type) {
    // Kept in the users' extensions JSON: read with each backend's JSON functions, compared by type.
    const std::string hr = "urn:example:hr:2.0:User";
    const std::string enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const std::pair<const char*, std::string> extensions[] = {
        {"Alice", "{\"" + hr + "\":{\"badge\":\"A-17\",\"clearance\":3,\"contractor\":false,\"hired\":"
                  "\"2024-05-01T00:00:00.000Z\",\"rate\":41.5},\"" + enterprise +
                  "\":{\"employeeNumber\":\"E100\",\"manager\":{\"value\":\"m-1\"}}}"},
        {"bob", "{\"" + hr + "\":{\"badge\":\"b-2\",\"clearance\":1,\"contractor\":true}}"},
        {"dave%", "{\"" + hr + "\":{\"clearance\":5,\"hired\":\"2025-03-01T00:00:00.000Z\",\"rate\":70}}"},
    };
    for (const auto& [name, json] : extensions) {
        auto u = db->find_user_by_user_name(org.id, name).value();
        u.extensions_json = json;
        BOOST_TEST_REQUIRE(db->update_user(u, u.version, admin).has_value());
    }
    using vt = store::extension_attribute::value_type;
    const std::vector<store::extension_attribute> declared{
        {hr, "badge", "", vt::case_exact_string}, {hr, "clearance", "", vt::integer},
        {hr, "contractor", "", vt::boolean},      {hr, "hired", "", vt::date_time},
        {hr, "rate", "", vt::decimal},            {enterprise, "employeeNumber", "", vt::string},
        {enterprise, "manager", "value", vt::string}};
    const auto query = [&](filter_ptr f) {
        store::user_query q;
        q.organization_id = org.id;
        q.filter = std::move(f);
        q.extension_attributes = declared;
        return q;
    };
    const auto matching = [&](filter_ptr f) {
        auto page = db->find_users(query(std::move(f)));
        if (!page) return "error: " + page.error().message();
        std::string out;
        for (const auto& u : page->users) out += (out.empty() ? "" : ",") + u.user_name;
        return out;
    };
    const auto number = [](schema::attribute_path p, compare_op op, std::string n) {
        schema::filter_value v;
        v.type = schema::filter_value::kind::number;
        v.text = std::move(n);
        return node({schema::comparison{std::move(p), op, v}});
    };
    const auto at = [&](const char* a, const std::string& urn) { return path(a, "", urn); };
    BOOST_TEST(matching(cmp(at("employeeNumber", enterprise), compare_op::eq, "e100")) == "Alice");  // caseExact=false
    BOOST_TEST(matching(cmp(path("manager", "value", enterprise), compare_op::eq, "m-1")) == "Alice");
    BOOST_TEST(matching(cmp(at("BADGE", hr), compare_op::eq, "a-17")) == "");  // caseExact=true; names are not
    BOOST_TEST(matching(cmp(at("badge", hr), compare_op::sw, "A-")) == "Alice");
    BOOST_TEST(matching(present(at("badge", hr))) == "Alice,bob");
    BOOST_TEST(matching(negate(present(at("badge", hr)))) == "carol_x,dave%");
    BOOST_TEST(matching(number(at("clearance", hr), compare_op::gt, "2")) == "Alice,dave%");
    BOOST_TEST(matching(number(at("clearance", hr), compare_op::eq, "1.0")) == "bob");
    BOOST_TEST(matching(number(at("clearance", hr), compare_op::ne, "3")) == "bob,carol_x,dave%");
    BOOST_TEST(matching(number(at("rate", hr), compare_op::lt, "50")) == "Alice");
    BOOST_TEST(matching(cmp_bool(at("contractor", hr), compare_op::eq, true)) == "bob");
    BOOST_TEST(matching(cmp_bool(at("contractor", hr), compare_op::eq, false)) == "Alice");
    BOOST_TEST(matching(present(at("contractor", hr))) == "Alice,bob");
    BOOST_TEST(matching(cmp(at("hired", hr), compare_op::gt, "2025-01-01T00:00:00Z")) == "dave%");
    BOOST_TEST(matching(both(cmp(path("title"), compare_op::eq, "engineer"), number(at("clearance", hr), compare_op::ge, "3"))) ==
               "Alice,dave%");
    // Wrong types and undeclared attributes: refused, never dropped.
    const std::pair<filter_ptr, const char*> refused[] = {
        {cmp(at("clearance", hr), compare_op::eq, "3"), "number"},
        {number(at("clearance", hr), compare_op::co, "3"), "co, sw and ew"},
        {cmp(at("contractor", hr), compare_op::eq, "true"), "boolean"},
        {cmp(at("nosuch", hr), compare_op::eq, "x"), "cannot be filtered"},
        {cmp(at("badge", "urn:example:other"), compare_op::eq, "x"), "cannot be filtered"},
    };
    for (const auto& [f, reason] : refused) {
        const auto why = store::validate(query(f));
        BOOST_TEST_REQUIRE(why.has_value(), schema::to_sexpr(*f));
        BOOST_TEST(why->find(reason) != std::string::npos, *why);
    }
}

BOOST_AUTO_TEST_CASE(paging_counts_everything_and_returns_a_window) {
    store::user_query q;
    q.organization_id = org.id;
    q.sort_by = "userName";
    q.offset = 1;
    q.limit = 2;
    auto page = db->find_users(q).value();
    BOOST_TEST(page.total == 4);
    BOOST_REQUIRE(page.users.size() == 2u);
    BOOST_TEST(page.users[0].user_name == "bob");
    BOOST_TEST(page.users[1].emails.size() == 2u);  // carol's emails came along
    q.limit = 0;
    page = db->find_users(q).value();
    BOOST_TEST(page.total == 4);
    BOOST_TEST(page.users.empty());
    // A page past the end has no row to carry the count: the count still comes back.
    q.offset = 10;
    q.limit = 2;
    page = db->find_users(q).value();
    BOOST_TEST(page.total == 4);
    BOOST_TEST(page.users.empty());
}

// `userName eq` alone is answered by a one-row read (userName is unique), and must page and count like
// the general query: a window past the row, a count-only request, no match.
BOOST_AUTO_TEST_CASE(a_sole_user_name_filter_pages_and_counts_like_any_other) {
    store::user_query q;
    q.organization_id = org.id;
    q.filter = cmp(path("USERNAME"), compare_op::eq, "aLiCe");
    auto page = db->find_users(q).value();
    BOOST_TEST(page.total == 1);
    BOOST_REQUIRE(page.users.size() == 1u);
    BOOST_TEST(page.users[0].user_name == "Alice");
    BOOST_TEST(page.users[0].emails.size() == 1u);
    q.offset = 1;
    page = db->find_users(q).value();
    BOOST_TEST(page.total == 1);
    BOOST_TEST(page.users.empty());
    q.offset = 0;
    q.limit = 0;
    page = db->find_users(q).value();
    BOOST_TEST(page.total == 1);
    BOOST_TEST(page.users.empty());
    q.limit = 100;
    q.filter = cmp(path("userName"), compare_op::eq, "nobody");
    page = db->find_users(q).value();
    BOOST_TEST(page.total == 0);
    BOOST_TEST(page.users.empty());
    // Another organisation's Alice is not this one's.
    const auto other = make_org("other");
    q.organization_id = other.id;
    q.filter = cmp(path("userName"), compare_op::eq, "alice");
    BOOST_TEST(db->find_users(q).value().total == 0);
}

// Each distinct statement is prepared once per connection and kept in a bounded cache, on PostgreSQL
// (store/src/pg_prepared.hpp) and on SQLite (store/src/sqlite_prepared.hpp): more shapes than it holds,
// then the first ones again after their eviction, must all still answer correctly.
BOOST_AUTO_TEST_CASE(many_distinct_filter_shapes_keep_answering) {
    const auto chain = [](int clauses) {
        auto f = cmp(path("userName"), compare_op::eq, "alice");
        for (int i = 0; i < clauses; ++i) f = either(f, cmp(path("userName"), compare_op::eq, "nobody-" + std::to_string(i)));
        return f;
    };
    for (int round = 0; round < 2; ++round)
        for (int clauses = 0; clauses < 300; clauses += round == 0 ? 1 : 37)
            BOOST_TEST(names(chain(clauses)) == "Alice", "round " << round << ", " << clauses << " clauses");
}

BOOST_AUTO_TEST_SUITE_END()
