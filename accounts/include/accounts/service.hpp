// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Local user management as an HTTP API (/api/v1/...): plain handler functions like the SCIM module's.
// The gateway authenticates the session (authenticate_session), builds a context and calls a handler on
// the blocking pool; handlers enforce every rule themselves (authorization.hpp) and throw
// core::http_error with a machine-readable code and a message naming the field.
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accounts/mail.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/http.hpp"
#include "schema/account.hpp"
#include "store/store.hpp"

namespace idgate::accounts {

// How a browser or an API client carries its session: the cookie, or `Authorization: Bearer idg_sess_...`.
inline constexpr std::string_view session_cookie = "idgate_session";
inline constexpr std::string_view session_token_prefix = "idg_sess_";

// Login throttling: this many failures for one login name within the window lock it until the oldest
// of them leaves the window; a client address gets more room (it may be a shared NAT).
inline constexpr int account_failure_limit = 5;
inline constexpr int address_failure_limit = 50;
inline constexpr std::chrono::minutes failure_window{15};

// Resend an invitation at most this often per user.
inline constexpr std::chrono::seconds invitation_resend_interval{30};

// The session the request carries, if it is valid: a principal of kind `user` (id = user id,
// organization id and slug, session id); nullopt when there is none or it is invalid or expired.
std::optional<core::principal> authenticate_session(store::store& db, const core::request& req);

// What an organisation's identity providers own while its SSO is enforced: the read-only mirror. Built by
// the gateway from the mapping files' `locks` (accounts does not read them); each entry names the connection
// that owns it, for messages like "managed by identity provider okta-main". Empty strings: local.
struct idp_policy {
    bool enforced = false;
    std::vector<std::pair<std::string, std::string>> locked_fields;  // field ("email", ...) -> connection
    std::string authorization_by;  // roles and permissions come from this IdP's rules
    std::string create_by, invite_by, delete_by, password_by, mfa_by;  // local actions turned off by
    const std::string* locked(std::string_view field) const {
        for (const auto& [f, by] : locked_fields)
            if (f == field) return &by;
        return nullptr;
    }
};
// The policy of an organisation (by slug) as the mapping files say, whatever its sso mode.
using idp_policy_lookup = std::function<idp_policy(std::string_view organization_slug)>;

struct context {
    store::store& db;
    const core::clock& clock;
    schema::organization organization;  // the caller's, or the one named by a public request
    std::optional<schema::account> caller;  // the signed-in user (absent on public routes)
    std::string session_id;
    schema::actor actor;  // for the audit trail
    const mailer* mail = nullptr;  // null: no mail server; links are returned to the admin instead
    // Signed-in requests: the organisation's settings, and whether the caller must use MFA.
    schema::organization_settings settings{};
    bool mfa_required = false;
    const idp_policy_lookup* idp_lookup = nullptr;  // null: no mapping files, nothing is owned by an IdP
    idp_policy idp{};  // signed-in requests: the caller's organisation's policy (enforced only with sso: enforced)
    const core::secret_box* secrets = nullptr;  // seals TOTP keys at rest (mfa_keys.hpp); null: MFA unavailable
};

using handler = core::response (*)(const context&, const core::request&);

// Whether a handler stays reachable to a user who must enrol in MFA and has not yet: /me, MFA
// enrolment, logout and their own password. Everything else answers 403 mfa_enrollment_required.
enum class mfa_gate { enforce, exempt };

// Runs `fn` for a signed-in request: loads the caller's account and organisation, enforces the MFA
// requirement, builds the context.
core::response with_session(store::store& db, const core::clock& clock, const mailer* mail,
                            const core::secret_box* secrets, const idp_policy_lookup* idp, const core::request& req,
                            handler fn, mfa_gate gate);
// Runs `fn` for a public request (login, accepting an invitation, completing a reset).
core::response without_session(store::store& db, const core::clock& clock, const mailer* mail,
                               const core::secret_box* secrets, const idp_policy_lookup* idp,
                               const core::request& req, handler fn);

// Sessions, passwords, MFA (sessions.cpp).
core::response login(const context& c, const core::request& req);            // POST /api/v1/login
core::response login_mfa(const context& c, const core::request& req);        // POST /api/v1/login/mfa
core::response logout(const context& c, const core::request& req);           // POST /api/v1/logout
core::response me(const context& c, const core::request& req);               // GET /api/v1/me
core::response change_password(const context& c, const core::request& req); // POST /api/v1/me/password
core::response start_mfa(const context& c, const core::request& req);       // POST /api/v1/me/mfa
core::response confirm_mfa(const context& c, const core::request& req);     // POST /api/v1/me/mfa/confirm
core::response regenerate_recovery_codes(const context& c, const core::request& req);  // POST /api/v1/me/mfa/recovery-codes
core::response accept_invitation(const context& c, const core::request& req);  // POST /api/v1/invitations/accept
core::response complete_password_reset(const context& c, const core::request& req);  // POST /api/v1/password-resets/complete

// Users (users.cpp).
core::response list_users(const context& c, const core::request& req);        // GET /api/v1/users
core::response invite_users(const context& c, const core::request& req);      // POST /api/v1/users/invitations
core::response get_user(const context& c, const core::request& req);          // GET /api/v1/users/{id}
core::response update_user(const context& c, const core::request& req);       // PATCH /api/v1/users/{id}
core::response confirm_email_change(const context& c, const core::request& req);  // POST /api/v1/email-changes/confirm
core::response delete_user(const context& c, const core::request& req);       // DELETE /api/v1/users/{id}
core::response erase_user(const context& c, const core::request& req);        // POST /api/v1/users/{id}/erase
core::response resend_invitation(const context& c, const core::request& req); // POST /api/v1/users/{id}/invitation
core::response set_role(const context& c, const core::request& req);          // PUT /api/v1/users/{id}/role
core::response set_permissions(const context& c, const core::request& req);   // PUT /api/v1/users/{id}/permissions
core::response disable_user(const context& c, const core::request& req);      // POST /api/v1/users/{id}/disable
core::response enable_user(const context& c, const core::request& req);       // POST /api/v1/users/{id}/enable
core::response end_sessions(const context& c, const core::request& req);      // DELETE /api/v1/users/{id}/sessions
core::response reset_password(const context& c, const core::request& req);    // POST /api/v1/users/{id}/password-reset
core::response reset_mfa(const context& c, const core::request& req);         // DELETE /api/v1/users/{id}/mfa
core::response user_logins(const context& c, const core::request& req);       // GET /api/v1/users/{id}/logins

// Workspaces, projects, scoped roles and custom roles (roles.cpp).
core::response list_workspaces(const context& c, const core::request& req);   // GET /api/v1/workspaces
core::response create_workspace(const context& c, const core::request& req);  // POST /api/v1/workspaces
core::response delete_workspace(const context& c, const core::request& req);  // DELETE /api/v1/workspaces/{id}
core::response list_projects(const context& c, const core::request& req);     // GET /api/v1/projects
core::response create_project(const context& c, const core::request& req);    // POST /api/v1/projects
core::response delete_project(const context& c, const core::request& req);    // DELETE /api/v1/projects/{id}
core::response set_scoped_role(const context& c, const core::request& req);   // PUT /api/v1/users/{id}/scoped-roles/{scope}
core::response remove_scoped_role(const context& c, const core::request& req);  // DELETE /api/v1/users/{id}/scoped-roles/{scope}
core::response list_roles(const context& c, const core::request& req);        // GET /api/v1/roles
core::response create_role(const context& c, const core::request& req);       // POST /api/v1/roles
core::response delete_role(const context& c, const core::request& req);       // DELETE /api/v1/roles/{name}
core::response set_custom_roles(const context& c, const core::request& req);  // PUT /api/v1/users/{id}/custom-roles

// The read-only mirror (mirror.cpp).
core::response set_sso_mode(const context& c, const core::request& req);      // PUT /api/v1/sso
core::response set_break_glass(const context& c, const core::request& req);   // PUT /api/v1/users/{id}/break-glass

// The organisation's own settings (organization.cpp).
core::response get_settings(const context& c, const core::request& req);      // GET /api/v1/settings
core::response update_settings(const context& c, const core::request& req);   // PATCH /api/v1/settings
core::response list_permissions(const context& c, const core::request& req);  // GET /api/v1/permissions
core::response define_permission(const context& c, const core::request& req); // POST /api/v1/permissions
core::response transfer_ownership(const context& c, const core::request& req);  // POST /api/v1/ownership-transfer
core::response audit(const context& c, const core::request& req);             // GET /api/v1/audit

// Identity conflicts held for an admin (a connection's identity_conflicts: queue).
core::response list_identity_conflicts(const context& c, const core::request& req);    // GET /api/v1/identity-conflicts
core::response get_identity_conflict(const context& c, const core::request& req);      // GET /api/v1/identity-conflicts/{id}
core::response approve_identity_conflict(const context& c, const core::request& req);  // POST .../{id}/approve
core::response reject_identity_conflict(const context& c, const core::request& req);   // POST .../{id}/reject

// An audit record as the API shows it (instance and organisation audit endpoints alike).
boost::json::object audit_record_json(const schema::audit_record& r);

// For the instance administrator: creates a user in an organisation -- how its first user, the owner,
// is invited (organization's context; no caller).
core::response bootstrap_user(const context& c, const core::request& req);

}  // namespace idgate::accounts
