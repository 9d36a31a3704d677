// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Shared by the accounts handlers: the account's JSON form, strict body reading, errors.
#include <boost/json/object.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "accounts/authorization.hpp"
#include "accounts/service.hpp"
#include "store/accounts.hpp"

namespace idgate::accounts::detail {

// The account as the API shows it (never secrets).
boost::json::object account_json(const schema::account& a);

// What identity providers own of the account, so that a UI shows it read-only: `locked_fields` (with the
// owning connection; empty unless SSO is enforced), `roles_managed_by`, and `identity_providers` (the
// connections the user is bound to, with the id each knows them by).
void add_identity_provider_fields(const context& c, const schema::account& a, boost::json::object& out);

// 400 naming the field: {"code": "invalid_field", "message": "'email': ..."}.
core::http_error invalid_field(std::string_view field, std::string message);
// 403 with the reason authorize() gave.
void require(const decision& d);
// The target user of /users/{id} in the caller's organisation; 404 otherwise (also for other
// organisations' ids, so ids do not leak).
schema::account load_target(const context& c, std::string_view id);
// A storage refusal that is the client's business, as the right HTTP error.
[[noreturn]] void throw_store_error(const boost::system::error_code& ec, std::string_view what);

// Reads a JSON object body strictly: every key must be one of `accepted` (else 400 naming it and the
// accepted ones), and typed getters say which field has the wrong type.
class body_reader {
public:
    body_reader(const core::request& req, std::initializer_list<std::string_view> accepted);
    bool has(std::string_view key) const { return body_.contains(key); }
    std::optional<std::string> string(std::string_view key, std::size_t max_length = 200) const;
    std::string required_string(std::string_view key, std::size_t max_length = 200) const;
    std::optional<bool> boolean(std::string_view key) const;
    const boost::json::object& object() const { return body_; }

private:
    boost::json::object body_;
};

// A secret for a one-time link and the stored link (digest only).
struct issued_link {
    std::string secret;
    schema::one_time_link link;
};
issued_link new_link(const context& c, schema::link_purpose purpose, std::string_view user_id,
                     std::chrono::seconds ttl);

// Sends the link to the user when a mail server is configured, and returns what the API shows about it:
// {"sent_to", "expires"} once sent; otherwise {"token", "expires"} for the admin to pass on (with
// "delivery_error" when sending failed -- the link is valid either way, and a resend can retry).
// `address` overrides the account's primary email (an email change is verified at the new address).
boost::json::object deliver_link(const context& c, const schema::account& to, const issued_link& l,
                                 const std::string& address = {});

// A cookie's value in the request's Cookie header.
std::optional<std::string_view> cookie_value(const core::request& req, std::string_view name);
// The Set-Cookie header of the session cookie (an empty secret and age 0 clear it).
std::string session_cookie_header(std::string_view secret, std::int64_t max_age_seconds);

// 403 "managed by identity provider X" when SSO is enforced and connection `by` owns this action.
void require_local(const context& c, const std::string& by, std::string_view what, bool exempt = false);

// Whether `email` looks like an address: one '@', a non-empty local part, a dotted domain, no spaces.
bool plausible_email(std::string_view email);

}  // namespace idgate::accounts::detail
