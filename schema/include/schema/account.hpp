// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Local user management ("Settings > Users"): the account around a user -- its system role, extra
// permissions, credentials state, invitations, sessions and login history. The rules that use these
// types live in the accounts module; storage only keeps them.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "schema/model.hpp"

namespace idgate::schema {

// The built-in system roles, exactly one per user, in increasing order of privilege.
enum class system_role { guest, member, manager, admin, super_admin };
std::string_view to_string(system_role r);
std::optional<system_role> parse_system_role(std::string_view text);
inline constexpr std::array all_system_roles{system_role::guest, system_role::member, system_role::manager,
                                             system_role::admin, system_role::super_admin};

// A permission an organisation defines and grants to users on top of their role (e.g.
// "active_response"). One that requires MFA blocks its holder until they have enrolled.
struct permission_definition {
    std::string name;  // [a-z0-9_.:-], 1-64 characters
    std::string description;
    bool requires_mfa = false;
};

// Workspaces and projects: the named resources that scoped roles apply to.
enum class scope_kind { workspace, project };
std::string_view to_string(scope_kind k);
std::optional<scope_kind> parse_scope_kind(std::string_view text);

struct resource_scope {
    std::string id;
    std::string organization_id;
    scope_kind kind = scope_kind::workspace;
    std::string name;  // unique per organisation and kind
    core::time_point created{};
};

// The roles a user can hold on one workspace or project.
enum class scoped_role_name { owner, editor, viewer };
std::string_view to_string(scoped_role_name r);
std::optional<scoped_role_name> parse_scoped_role_name(std::string_view text);

// One scoped role of a user, shown as "Workspace: Role".
struct scoped_role {
    std::string scope_id;
    scope_kind kind = scope_kind::workspace;
    std::string scope_name;
    scoped_role_name role = scoped_role_name::viewer;
};

// An admin-defined role: a named set of permissions, granted on top of the system role.
struct custom_role {
    std::string id;
    std::string name;
    std::string description;
    std::vector<std::string> permissions;  // sorted
};

// The organisation's password rules. Defaults: 8-60 characters with an upper-case letter, a lower-case
// letter, a digit and one of the special characters.
struct password_policy {
    int min_length = 8;
    int max_length = 60;
    bool require_upper = true;
    bool require_lower = true;
    bool require_digit = true;
    bool require_special = true;
    std::string special_characters = "!@#$%^&*_-";
};

// Per-organisation settings of local user management, stored as one JSON document.
struct organization_settings {
    bool deactivate_only = false;  // "deletion: deactivate_only": DELETE of a user is refused
    bool mfa_required = false;     // every user must enrol in TOTP MFA
    // "password_reset": an admin reset sends a single-use link ("link"), or sets a generated password
    // that the admin sees once and passes on ("generated").
    bool reset_generates_password = false;
    password_policy passwords;
    int invitation_ttl_hours = 7 * 24;
    int session_ttl_hours = 12;
};
std::string to_json(const organization_settings& s);
// Missing keys keep their defaults; unknown keys and wrong types are errors (message in `error`).
std::optional<organization_settings> parse_organization_settings(std::string_view json, std::string& error);

// Single-use links and challenges. Only a SHA-256 of the secret is stored.
enum class link_purpose { invitation, password_reset, mfa_challenge, email_change };
std::string_view to_string(link_purpose p);

struct one_time_link {
    std::string id;
    std::string organization_id;
    std::string user_id;
    link_purpose purpose = link_purpose::invitation;
    std::string secret_hash;
    core::time_point created{};
    core::time_point expires{};
    std::optional<core::time_point> used;
    std::string payload;  // email_change: the new address
};

enum class invitation_state { none, pending, expired };
std::string_view to_string(invitation_state s);

struct login_counts {
    std::int64_t last_7_days = 0, last_30_days = 0, last_365_days = 0;
};

// A user as local user management sees it.
struct account {
    user profile;
    system_role role = system_role::member;
    std::vector<std::string> permissions;  // extra permissions granted directly, sorted
    std::vector<std::string> custom_roles;  // names, sorted
    // Every permission the user holds: direct ones and those of their custom roles, sorted.
    std::vector<std::string> effective_permissions;
    std::vector<scoped_role> scoped_roles;  // by kind, then scope name
    bool has_password = false;
    bool mfa_enrolled = false;
    bool break_glass = false;  // may sign in with a local password while SSO is enforced
    invitation_state invitation = invitation_state::none;
    std::optional<core::time_point> invitation_sent;  // the latest invitation's creation
    login_counts logins;
};

struct session {
    std::string id;
    std::string organization_id;
    std::string user_id;
    std::string secret_hash;
    std::string connection_id;  // the IdP connection for SSO sessions; empty for local logins
    std::string idp_session;    // the IdP's session id (OIDC sid), for back-channel logout
    core::time_point created{};
    core::time_point expires{};
    std::string client_address;
    std::string user_agent;
    std::string idp_subject = {};  // the SAML NameID the session was started for (Single Logout names it)
    std::string idp_subject_format = {};  // its Format attribute as issued (empty: none)
};

// What a login attempt was, for login activity, counts and throttling.
struct login_attempt {
    std::string organization_id;
    std::string user_id;  // empty when the login named no known user
    std::string login;    // what was typed (folded), for per-account throttling of unknown names too
    std::string method;   // "password", "saml", "oidc"
    bool success = false;
    std::string reason;   // on failure: "bad_password", "disabled", "mfa_failed", ...
    std::string client_address;
    core::time_point at{};
};

// TOTP state (RFC 6238): the shared secret, whether enrolment was confirmed, and the last time step
// accepted, so a code cannot be used twice.
struct mfa_state {
    std::string secret;  // the TOTP key as stored: sealed by accounts (core::secret_box); empty when not enrolled
    bool confirmed = false;
    std::int64_t last_step = 0;
};

}  // namespace idgate::schema
