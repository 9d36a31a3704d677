// SPDX-License-Identifier: AGPL-3.0-or-later
// The accounts handlers against a real (in-memory SQLite) store with a clock the test moves: the rules
// that depend on time -- link expiry, the resend interval, lockout windows -- without sleeping.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "../support/manual_clock.hpp"
#include "accounts/password.hpp"
#include "accounts/service.hpp"
#include "store/accounts.hpp"

using namespace idgate;

namespace idgate::schema {
inline std::ostream& operator<<(std::ostream& out, invitation_state s) { return out << to_string(s); }
}  // namespace idgate::schema
using outcome = std::pair<int, std::string>;  // status, and the error code or body
BOOST_TEST_DONT_PRINT_LOG_VALUE(outcome)

namespace {

struct handler_fixture {
    test::manual_clock clock;
    std::unique_ptr<store::store> db = store::open_sqlite({":memory:", 1000, 1}, clock);
    schema::organization org;
    schema::account owner;

    handler_fixture() {
        db->migrate();
        schema::organization o;
        o.slug = "acme";
        o.name = "Acme";
        org = db->create_organization(o, {"system", "", "", "", ""}).value();
        store::new_account d;
        d.user.organization_id = org.id;
        d.user.user_name = "owner@acme.test";
        d.password_hash = accounts::hash_password("Sunny-Day42");
        owner = db->local_accounts().create_accounts({d}, {"system", "", "", "", ""}).value().front();
    }

    accounts::context as_owner() { return {*db, clock, org, owner, "", {"user", owner.profile.id, "owner", "", ""}}; }
    accounts::context anonymous() { return {*db, clock, {}, std::nullopt, "", {"anonymous", "", "", "", ""}}; }

    static core::request request(std::string body, std::vector<std::pair<std::string, std::string>> params = {}) {
        core::request r;
        r.verb = core::method::post;
        r.body = std::move(body);
        r.path_params = std::move(params);
        r.client_address = "192.0.2.1";
        return r;
    }

    // Runs a handler; returns the status and the body (an http_error becomes its status and code).
    std::pair<int, std::string> run(accounts::handler fn, const accounts::context& c, const core::request& req) {
        try {
            const auto res = fn(c, req);
            return {res.status, res.body};
        } catch (const core::http_error& e) {
            return {e.status(), e.code()};
        }
    }

    // Invites `email`; returns (user id, token).
    std::pair<std::string, std::string> invite(const std::string& email) {
        const auto [status, body] = run(accounts::invite_users, as_owner(), request(R"({"emails":")" + email + R"("})"));
        BOOST_TEST_REQUIRE(status == 201, body);
        const auto u = boost::json::parse(body).at("invited").at(0);
        return {std::string(u.at("id").as_string()), std::string(u.at("invitation_link").at("token").as_string())};
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(accounts_handlers)

BOOST_AUTO_TEST_CASE(an_invitation_expires_after_seven_days_and_a_resend_revives_it) {
    handler_fixture f;
    const auto [id, token] = f.invite("ann@acme.test");
    f.clock.advance(std::chrono::hours(24 * 7) + std::chrono::milliseconds(1));
    BOOST_TEST(f.db->local_accounts().get_account(f.org.id, id)->invitation == schema::invitation_state::expired);
    const auto accept = R"({"token":")" + token + R"(","password":"Sunny-Day42"})";
    BOOST_TEST(f.run(accounts::accept_invitation, f.anonymous(), f.request(accept)) ==
               (outcome{410, "link_expired"}));
    // Resending an expired invitation gives a new link; the old one stays dead.
    const auto [status, body] = f.run(accounts::resend_invitation, f.as_owner(), f.request("", {{"id", id}}));
    BOOST_TEST_REQUIRE(status == 200, body);
    const auto fresh = std::string(boost::json::parse(body).at("invitation_link").at("token").as_string());
    BOOST_TEST(f.run(accounts::accept_invitation, f.anonymous(), f.request(accept)).first == 410);
    BOOST_TEST(f.run(accounts::accept_invitation, f.anonymous(),
                     f.request(R"({"token":")" + fresh + R"(","password":"Sunny-Day42"})"))
                   .first == 200);
}

BOOST_AUTO_TEST_CASE(resending_is_allowed_once_every_thirty_seconds) {
    handler_fixture f;
    const auto id = f.invite("ann@acme.test").first;
    const auto resend = [&] { return f.run(accounts::resend_invitation, f.as_owner(), f.request("", {{"id", id}})); };
    f.clock.advance(std::chrono::seconds(29));
    BOOST_TEST(resend() == (outcome{429, "too_soon"}));
    f.clock.advance(std::chrono::seconds(1));
    BOOST_TEST(resend().first == 200);
    BOOST_TEST(resend().first == 429);  // the interval counts from the latest send
}

BOOST_AUTO_TEST_CASE(a_lockout_ends_when_the_failures_leave_the_window) {
    handler_fixture f;
    const auto login = [&](const char* password) {
        return f.run(accounts::login, f.anonymous(),
                     f.request(std::string(R"({"organization":"acme","login":"owner@acme.test","password":")") +
                               password + R"("})"));
    };
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(login("Wrong-Pass1").first == 401);
        f.clock.advance(std::chrono::minutes(1));
    }
    BOOST_TEST(login("Sunny-Day42") == (outcome{429, "account_locked"}));
    // The oldest failure leaves the 15-minute window at minute 15: four failures remain, below the limit.
    f.clock.advance(std::chrono::minutes(11));
    BOOST_TEST(login("Sunny-Day42").first == 200);
}

BOOST_AUTO_TEST_CASE(one_address_failing_on_many_logins_is_throttled) {
    handler_fixture f;
    const auto attempt = [&](const std::string& login) {
        return f.run(accounts::login, f.anonymous(),
                     f.request(R"({"organization":"acme","login":")" + login + R"(","password":"Wrong-Pass1"})"));
    };
    // A password-spraying client: each name fails once, so no account locks, but the address does.
    for (int i = 0; i < accounts::address_failure_limit; ++i)
        BOOST_TEST(attempt("nobody" + std::to_string(i) + "@acme.test").first == 401);
    BOOST_TEST(attempt("owner@acme.test") == (outcome{429, "too_many_attempts"}));
    f.clock.advance(accounts::failure_window + std::chrono::milliseconds(1));
    BOOST_TEST(attempt("owner@acme.test").first == 401);  // the window has passed
}

BOOST_AUTO_TEST_CASE(a_password_reset_link_lasts_an_hour) {
    handler_fixture f;
    const auto [id, token] = f.invite("ann@acme.test");
    BOOST_TEST(f.run(accounts::accept_invitation, f.anonymous(),
                     f.request(R"({"token":")" + token + R"(","password":"Sunny-Day42"})"))
                   .first == 200);
    const auto [status, body] = f.run(accounts::reset_password, f.as_owner(), f.request("", {{"id", id}}));
    BOOST_TEST_REQUIRE(status == 200, body);
    const auto reset = std::string(boost::json::parse(body).at("reset_link").at("token").as_string());
    f.clock.advance(std::chrono::minutes(61));
    BOOST_TEST(f.run(accounts::complete_password_reset, f.anonymous(),
                     f.request(R"({"token":")" + reset + R"(","password":"Rainy-Day43"})")) ==
               (outcome{410, "link_expired"}));
}

BOOST_AUTO_TEST_SUITE_END()
