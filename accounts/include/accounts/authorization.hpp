// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Who may do what in local user management: one pure function, so every rule is a table test and the
// API cannot enforce a rule in one handler and forget it in another.
//
//   super_admin (owner)  everything; the only one who grants super_admin or acts on another super_admin
//   admin                manages users, roles below super_admin, permissions, settings, audit
//   manager              sees the team list and accounts; changes nothing
//   member (analyst)     sees and edits only themselves
//   guest                sees only themselves, read-only
#include <optional>
#include <string>

#include "schema/account.hpp"

namespace idgate::accounts {

enum class action {
    list_users,
    view_user,
    edit_own_profile,
    invite_user,
    edit_user,
    change_role,
    change_permissions,
    disable_user,
    enable_user,
    delete_user,
    reset_password,
    reset_mfa,
    end_sessions,
    view_logins,
    manage_settings,
    view_audit,
};

struct decision {
    bool allowed = false;
    std::string reason;  // why not, for the 403 message
    explicit operator bool() const { return allowed; }
};

// Whether `actor` may perform `a` on `target` (null for actions without one). For change_role, `role` is
// the role to be given.
decision authorize(const schema::account& actor, action a, const schema::account* target = nullptr,
                   std::optional<schema::system_role> role = std::nullopt);

}  // namespace idgate::accounts
