// SPDX-License-Identifier: AGPL-3.0-or-later
// store::user_reader (PostgreSQL in libpq's pipeline mode), driven here by a small poll() loop the way
// the gateway's I/O thread drives it. PostgreSQL only: SQLite has no such reader.
#include <poll.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>

#include "../support/manual_clock.hpp"
#include "backend_context.hpp"
#include "store/user_reader.hpp"

using namespace idgate;
using idgate::test::context;
using store::errc;
using store::user_key;

namespace {

const schema::actor admin{"instance_admin", "tok-1", "ops", "127.0.0.1", "req-1"};

struct reader_fixture {
    test::manual_clock clock;
    std::unique_ptr<store::store> db;
    schema::organization org, other;
    std::unique_ptr<store::user_reader> reader;

    reader_fixture() : db(context().open_fresh(clock)) {
        db->migrate();
        org = make_org("acme");
        other = make_org("globex");
        reader = store::open_user_reader({context().connection(), 1});
    }

    schema::organization make_org(const std::string& slug) {
        schema::organization o;
        o.slug = slug;
        o.name = slug;
        return db->create_organization(o, admin).value();
    }

    schema::user create(const std::string& user_name, const std::string& org_id) {
        schema::user u;
        u.organization_id = org_id;
        u.user_name = user_name;
        u.name.given_name = "Given";
        u.display_name = user_name;
        u.emails = {{user_name + "@example.com", "work", "", true}};
        u.phone_numbers = {{"+1 555 0100", "work", "", true}};
        return db->create_user(u, admin).value();
    }

    // Sends what is queued and collects `expected` outcomes, as the I/O thread would: wait for the socket,
    // receive, repeat.
    std::vector<store::user_reader::outcome> collect(std::size_t expected) {
        std::vector<store::user_reader::outcome> got;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        bool sent = reader->send();
        while (got.size() < expected && reader->healthy() && std::chrono::steady_clock::now() < deadline) {
            pollfd p{reader->socket(), static_cast<short>(POLLIN | (sent ? 0 : POLLOUT)), 0};
            ::poll(&p, 1, 100);
            if (!sent && (p.revents & POLLOUT)) sent = reader->send();
            if (p.revents & (POLLIN | POLLHUP | POLLERR)) reader->receive([&](auto o) { got.push_back(std::move(o)); });
        }
        // A broken connection finishes what was in flight, without an outcome, in receive().
        if (!reader->healthy()) reader->receive([&](auto o) { got.push_back(std::move(o)); });
        return got;
    }
};

void same_user(const schema::user& got, const schema::user& want) {
    BOOST_TEST(got.id == want.id);
    BOOST_TEST(got.organization_id == want.organization_id);
    BOOST_TEST(got.user_name == want.user_name);
    BOOST_TEST(got.display_name == want.display_name);
    BOOST_TEST(got.version == want.version);
    BOOST_TEST((got.created == want.created));
    BOOST_TEST((got.emails == want.emails));
    BOOST_TEST((got.phone_numbers == want.phone_numbers));
    BOOST_REQUIRE(got.groups.size() == want.groups.size());
    for (std::size_t i = 0; i < got.groups.size(); ++i) BOOST_TEST(got.groups[i].id == want.groups[i].id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(user_reader)

BOOST_AUTO_TEST_CASE(a_batch_of_reads_is_answered_in_order_like_the_blocking_reads) {
    reader_fixture f;
    std::vector<schema::user> users;
    for (int i = 0; i < 40; ++i) users.push_back(f.create("user" + std::to_string(i), f.org.id));
    schema::group g;
    g.organization_id = f.org.id;
    g.display_name = "Admins";
    BOOST_REQUIRE(f.db->create_group(g, {users[3].id, users[7].id}, admin));
    const auto stranger = f.create("stranger", f.other.id);

    // By id, by userName in another case, an unknown id, and another organisation's user.
    std::vector<std::pair<user_key, std::optional<std::string>>> asked;  // the key, and the id expected
    for (std::size_t i = 0; i < users.size(); ++i) {
        if (i % 2 == 0) asked.push_back({{user_key::kind::id, f.org.id, users[i].id}, users[i].id});
        else asked.push_back({{user_key::kind::user_name, f.org.id, "USER" + std::to_string(i)}, users[i].id});
    }
    asked.push_back({{user_key::kind::id, f.org.id, "00000000-0000-0000-0000-000000000000"}, std::nullopt});
    asked.push_back({{user_key::kind::id, f.org.id, stranger.id}, std::nullopt});
    asked.push_back({{user_key::kind::user_name, f.org.id, "stranger"}, std::nullopt});
    for (const auto& [key, _] : asked) BOOST_REQUIRE(f.reader->submit(key));
    BOOST_TEST(f.reader->in_flight() == asked.size());

    const auto got = f.collect(asked.size());
    BOOST_REQUIRE(got.size() == asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
        BOOST_REQUIRE_MESSAGE(got[i].has_value(), "read " << i << " came back without an outcome");
        const auto& expected_id = asked[i].second;
        if (!expected_id) {
            BOOST_TEST((!*got[i] && got[i]->error() == errc::not_found));
            continue;
        }
        BOOST_REQUIRE(got[i]->has_value());
        same_user(**got[i], f.db->get_user(f.org.id, *expected_id).value());
    }
    BOOST_TEST(f.reader->in_flight() == 0u);
    BOOST_TEST(f.reader->healthy());
    // users[3] is in the group: the read carries it, as the blocking read does.
    BOOST_TEST((*got[3])->groups.size() == 1u);
}

BOOST_AUTO_TEST_CASE(batches_sent_before_the_last_one_is_answered_keep_their_order) {
    reader_fixture f;
    std::vector<schema::user> users;
    for (int i = 0; i < 30; ++i) users.push_back(f.create("u" + std::to_string(i), f.org.id));
    // Three batches in flight at once (each send() ends one), then every answer.
    for (int batch = 0; batch < 3; ++batch) {
        for (int i = 0; i < 10; ++i)
            BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, users[batch * 10 + i].id}));
        f.reader->send();
    }
    const auto got = f.collect(30);
    BOOST_REQUIRE(got.size() == 30u);
    for (int i = 0; i < 30; ++i) {
        BOOST_REQUIRE(got[i].has_value() && got[i]->has_value());
        BOOST_TEST((*got[i])->id == users[i].id);
    }
}

BOOST_AUTO_TEST_CASE(a_failing_read_aborts_only_the_rest_of_its_batch) {
    reader_fixture f;
    const auto alice = f.create("alice", f.org.id);
    const auto bob = f.create("bob", f.org.id);
    // Bytes that are not UTF-8 make the server refuse the read (SQLSTATE 22021).
    BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, alice.id}));
    BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, std::string("\xff\xfe", 2)}));
    BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, bob.id}));
    const auto first = f.collect(3);
    BOOST_REQUIRE(first.size() == 3u);
    BOOST_TEST((first[0] && first[0]->has_value() && (*first[0])->id == alice.id));
    BOOST_TEST(!first[1].has_value());  // refused: read it the blocking way (which reports the error)
    BOOST_TEST(!first[2].has_value());  // never ran: the rest of the batch is aborted
    // The next batch is unaffected, and the connection stays in use.
    BOOST_TEST(f.reader->healthy());
    BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, bob.id}));
    const auto second = f.collect(1);
    BOOST_REQUIRE(second.size() == 1u);
    BOOST_TEST((second[0] && second[0]->has_value() && (*second[0])->id == bob.id));
}

BOOST_AUTO_TEST_CASE(a_lost_connection_finishes_every_read_in_flight_without_an_outcome) {
    reader_fixture f;
    const auto alice = f.create("alice", f.org.id);
    BOOST_REQUIRE(f.reader->submit({user_key::kind::id, f.org.id, alice.id}));
    BOOST_REQUIRE(f.collect(1).size() == 1u);  // connected and working
    // The server ends the reader's session (an administrator, a failover, a restart).
    context().execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'idgate pipelined reads' "
        "AND datname = current_database()");
    for (int i = 0; i < 5; ++i) f.reader->submit({user_key::kind::id, f.org.id, alice.id});
    const auto got = f.collect(5);
    BOOST_TEST(!f.reader->healthy());
    BOOST_TEST(!f.reader->problem().empty());
    BOOST_TEST(f.reader->in_flight() == 0u);
    for (const auto& o : got) BOOST_TEST(!o.has_value());
    // Whatever it had accepted finished (without an outcome); it accepts nothing more.
    BOOST_TEST(got.size() <= 5u);
    BOOST_TEST(!f.reader->submit({user_key::kind::id, f.org.id, alice.id}));
}

BOOST_AUTO_TEST_CASE(an_unreachable_database_is_unavailable_at_open) {
    BOOST_CHECK_THROW(store::open_user_reader({"host=127.0.0.1 port=1 connect_timeout=2", 1}), store::unavailable);
}

BOOST_AUTO_TEST_SUITE_END()
