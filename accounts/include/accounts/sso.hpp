// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Sessions for people who signed in through an identity provider (SAML, OIDC): the same sessions and
// cookie as a password sign-in, tied to the connection and the IdP's own session (so that the IdP's
// logout can end them), and the same login activity.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/http.hpp"
#include "store/store.hpp"

namespace idgate::accounts {

// What every single sign-on connection shares.
struct sso_settings {
    // Where a sign-in may send the browser back to: each is a prefix of an allowed return_to URL
    // (scheme, host, port and path start), so return_to can never be an open redirect.
    std::vector<std::string> allowed_return_urls;
    std::string default_return_url = "/";
    int state_ttl_seconds = 600;   // how long a sign-in may take
    int clock_skew_seconds = 60;   // tolerated difference with the provider's clock
};

struct sso_session {
    std::string secret;  // the bearer form of the session (the cookie carries it too)
    core::time_point expires{};
    std::string set_cookie;  // the Set-Cookie header value
};

struct sso_sign_in {
    std::string organization_id;
    std::string user_id;
    std::string login;          // what the login activity shows (the userName)
    std::string connection_id;  // the IdP connection
    std::string idp_session;    // the IdP's session id (OIDC sid), if it gave one
    std::string method;         // "oidc" or "saml"
    std::string idp_subject = {};  // SAML: the NameID, which a LogoutRequest names
    std::string idp_subject_format = {};  // and its Format as issued
};

// Starts the session and records the successful sign-in (login counts, last login).
sso_session start_sso_session(store::store& db, const core::clock& clock, const sso_sign_in& who,
                              const core::request& req);
// Records a refused sign-in in the login activity, with its reason code.
void record_failed_sso_sign_in(store::store& db, const core::clock& clock, const sso_sign_in& who,
                               const std::string& reason, const core::request& req);
// The session secret the request carries in its cookie, and the header that clears the cookie.
std::optional<std::string> session_secret_of(const core::request& req);
std::string cleared_session_cookie();

// Whether `url` may be redirected to: a local path ("/app", never "//host" or "/\host"), or an absolute
// URL starting with one of `allowed` at a boundary (so "https://app.example.com.evil" does not match
// "https://app.example.com"). No open redirects.
bool return_url_allowed(const std::string& url, const std::vector<std::string>& allowed);

// The page a person sees when single sign-on refuses them: "Sign-in failed" and a reference to quote to
// an administrator, never the reason (that goes to the log and the audit trail, under the same reference).
core::response sign_in_failure_page(const std::string& reference);
// A page that posts `fields` to `action` as soon as it loads (the SAML HTTP-POST binding, bindings §3.5.3):
// one inline script allowed by its hash in the Content-Security-Policy, and a button without JavaScript.
core::response auto_post_page(const std::string& action, const std::vector<std::pair<std::string, std::string>>& fields);
// A redirect (303 See Other: the browser follows with GET, whatever method brought it here).
core::response redirect_to(const std::string& location);

}  // namespace idgate::accounts
