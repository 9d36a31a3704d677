// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/authorization.hpp"

namespace idgate::accounts {
namespace {

using schema::system_role;

decision allow() { return {true, {}}; }
decision deny(std::string reason) { return {false, std::move(reason)}; }

bool at_least(const schema::account& a, system_role r) { return static_cast<int>(a.role) >= static_cast<int>(r); }

}  // namespace

decision authorize(const schema::account& actor, action a, const schema::account* target,
                   std::optional<system_role> role) {
    const bool self = target && target->profile.id == actor.profile.id;
    const bool admin = at_least(actor, system_role::admin);
    const bool owner = actor.role == system_role::super_admin;
    // Changes to a super_admin's account are reserved to super_admins: an admin cannot lock the owner out.
    const auto guard_owner_target = [&]() -> decision {
        if (target && target->role == system_role::super_admin && !owner)
            return deny("only a super_admin can change a super_admin's account");
        return allow();
    };

    switch (a) {
        case action::list_users:
            // Members and guests get a list too, holding only themselves (the handler narrows it).
            return allow();
        case action::view_user:
            if (self || at_least(actor, system_role::manager)) return allow();
            return deny("members and guests can see only their own account");
        case action::edit_own_profile:
            if (actor.role == system_role::guest) return deny("guests have read-only access");
            return allow();
        case action::invite_user:
            if (!admin) return deny("only admins can invite users");
            if (role == system_role::super_admin && !owner) return deny("only a super_admin can grant super_admin");
            return allow();
        case action::change_role:
            if (!admin) return deny("only admins can change roles");
            if (self) return deny("you cannot change your own role; ask another admin");
            if (role == system_role::super_admin && !owner) return deny("only a super_admin can grant super_admin");
            return guard_owner_target();
        case action::disable_user:
        case action::delete_user:
            if (!admin) return deny("only admins can disable or delete users");
            if (self) return deny("you cannot disable or delete your own account");
            return guard_owner_target();
        case action::edit_user:
        case action::change_permissions:
        case action::enable_user:
        case action::reset_password:
        case action::reset_mfa:
        case action::end_sessions:
            if (!admin) return deny("only admins can manage users");
            return guard_owner_target();
        case action::view_logins:
            if (self || admin) return allow();
            return deny("only admins can see other users' login activity");
        case action::manage_settings:
        case action::view_audit:
            if (!admin) return deny("only admins can do this");
            return allow();
    }
    return deny("not allowed");
}

}  // namespace idgate::accounts
