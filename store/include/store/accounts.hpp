// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Storage of local user management: accounts (a user with its system role, permissions and credential
// state), one-time links, sessions, login history, TOTP state and organisation settings. Same contract
// as store::store (thread-safe, blocking, one transaction per write with its audit record and change
// event, uniqueness by indexes). The invariants that must hold across concurrent admins -- an
// organisation always keeps a super_admin -- are checked inside the writing transaction, with the
// organisation row locked, so two admins demoting each other cannot both succeed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "schema/account.hpp"
#include "store/errc.hpp"

namespace idgate::store {

struct account_query {
    std::string organization_id;
    // Case-insensitive prefix of userName, display, given or family name, or the primary email.
    std::string text;
    std::optional<schema::system_role> role;
    std::vector<schema::user_status> statuses;  // empty: every status
    std::optional<core::time_point> created_from, created_to;  // inclusive, exclusive
    enum class sort_key { created, user_name, display_name, last_login };
    sort_key sort = sort_key::created;
    bool descending = false;
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

// A query counts its matches up to this many, or up to the end of the requested page if that is further;
// beyond, the total is reported as "at least" (account_page::total_exact false).
inline constexpr std::int64_t account_count_cap = 100;

struct account_page {
    std::vector<schema::account> accounts;
    std::int64_t total = 0;
    bool total_exact = true;
};

// A login's stored secret, for the caller to verify.
struct login_record {
    schema::account account;
    std::string password_hash;  // empty when the account has no password (invited, or SSO only)
};

struct new_account {
    schema::user user;
    schema::system_role role = schema::system_role::member;
    std::optional<schema::one_time_link> invitation;
    std::optional<std::string> password_hash;
};

// Everything a signed-in request needs about its caller, read in one round trip.
struct session_view {
    schema::organization organization;
    schema::organization_settings settings;
    schema::account account;
    // The organisation requires MFA, or the account holds a permission (directly or through a custom
    // role) that does.
    bool mfa_required = false;
};

class accounts {
public:
    virtual ~accounts() = default;

    virtual result<session_view> load_session_view(std::string_view organization_id, std::string_view user_id) = 0;

    // Creates users, all or none (a taken userName fails the whole call with errc::already_exists).
    // The first user of an organisation (no super_admin yet) becomes its owner, super_admin, whatever
    // `role` says. With an invitation, the user is `pending` and the link (ids filled in) is stored with
    // it; otherwise the user is active, with `password_hash` if given.
    virtual result<std::vector<schema::account>> create_accounts(std::vector<new_account> accounts,
                                                                 const schema::actor& by) = 0;
    virtual result<schema::account> get_account(std::string_view organization_id, std::string_view user_id) = 0;
    // By userName, or by email address when exactly one user of the organisation has it.
    virtual result<login_record> find_login(std::string_view organization_id, std::string_view login) = 0;
    virtual result<account_page> find_accounts(const account_query& q) = 0;

    // errc::last_owner when it would remove the organisation's last super_admin.
    virtual result<schema::account> set_role(std::string_view organization_id, std::string_view user_id,
                                             schema::system_role role, const schema::actor& by) = 0;
    // `to` (an admin) becomes super_admin and `from` (a super_admin) an admin, in one transaction.
    virtual result<void> transfer_ownership(std::string_view organization_id, std::string_view from,
                                            std::string_view to, const schema::actor& by) = 0;
    // active or disabled; disabling ends every session of the user in the same transaction.
    virtual result<schema::account> set_status(std::string_view organization_id, std::string_view user_id,
                                               schema::user_status status, const schema::actor& by) = 0;
    // Removes the user, its sessions, links and memberships; audit records stay.
    virtual result<void> delete_account(std::string_view organization_id, std::string_view user_id,
                                        const schema::actor& by) = 0;

    // A privacy request (the right to erasure): removes the account like delete_account, and also its
    // login history, and replaces what the audit trail and change feed say about the person (names,
    // addresses, field values) with "erased user", keeping the records' ids, times and actions.
    virtual result<void> erase_account(std::string_view organization_id, std::string_view user_id,
                                       const schema::actor& by) = 0;

    // Marks (or unmarks) a break-glass account: local password sign-in while SSO is enforced.
    virtual result<schema::account> set_break_glass(std::string_view organization_id, std::string_view user_id,
                                                    bool enabled, const schema::actor& by) = 0;
    // Switches the organisation between sso off, optional and enforced (audited; nothing else changes).
    virtual result<schema::organization> set_sso_mode(std::string_view organization_id, schema::sso_mode mode,
                                                      const schema::actor& by) = 0;

    virtual result<void> define_permission(std::string_view organization_id, const schema::permission_definition& p,
                                           const schema::actor& by) = 0;
    virtual std::vector<schema::permission_definition> list_permissions(std::string_view organization_id) = 0;
    // Replaces the user's extra permissions; errc::not_found if one is not defined in the organisation.
    virtual result<schema::account> set_permissions(std::string_view organization_id, std::string_view user_id,
                                                    const std::vector<std::string>& permissions,
                                                    const schema::actor& by) = 0;

    // Workspaces and projects. errc::already_exists for a taken name (per kind).
    virtual result<schema::resource_scope> create_scope(schema::resource_scope scope, const schema::actor& by) = 0;
    virtual std::vector<schema::resource_scope> list_scopes(std::string_view organization_id,
                                                            std::optional<schema::scope_kind> kind) = 0;
    // Removes the scope and every role held on it.
    virtual result<void> delete_scope(std::string_view organization_id, std::string_view scope_id,
                                      const schema::actor& by) = 0;
    // Gives the user `role` on the scope, replacing the role they had there (one per scope).
    virtual result<schema::account> set_scoped_role(std::string_view organization_id, std::string_view user_id,
                                                    std::string_view scope_id, schema::scoped_role_name role,
                                                    const schema::actor& by) = 0;
    virtual result<schema::account> remove_scoped_role(std::string_view organization_id, std::string_view user_id,
                                                       std::string_view scope_id, const schema::actor& by) = 0;

    // Custom roles: named permission sets. errc::not_found when a permission is not defined,
    // already_exists for a taken name.
    virtual result<schema::custom_role> create_custom_role(std::string_view organization_id, schema::custom_role role,
                                                           const schema::actor& by) = 0;
    virtual std::vector<schema::custom_role> list_custom_roles(std::string_view organization_id) = 0;
    virtual result<void> delete_custom_role(std::string_view organization_id, std::string_view name,
                                            const schema::actor& by) = 0;
    // Replaces the user's custom roles (by name; errc::not_found for an unknown one).
    virtual result<schema::account> set_custom_roles(std::string_view organization_id, std::string_view user_id,
                                                     const std::vector<std::string>& role_names,
                                                     const schema::actor& by) = 0;

    // Sets the password hash; with `end_sessions`, ends every session of the user but `keep_session_id`.
    virtual result<void> set_password(std::string_view organization_id, std::string_view user_id,
                                      const std::string& password_hash, bool end_sessions,
                                      std::string_view keep_session_id, const schema::actor& by) = 0;

    // Stores a link; earlier unused links of the same purpose for that user stop working.
    virtual result<schema::one_time_link> issue_link(schema::one_time_link link, const schema::actor& by) = 0;
    // A link by the digest of its secret, used or not.
    virtual std::optional<schema::one_time_link> find_link(std::string_view secret_hash) = 0;
    // The newest link of `purpose` for the user, used or not (for resend limits and invitation state).
    virtual std::optional<schema::one_time_link> latest_link(std::string_view organization_id,
                                                             std::string_view user_id,
                                                             schema::link_purpose purpose) = 0;
    // Marks the link used, if it exists with that purpose, is unused and unexpired (errc::not_found,
    // already_used, expired). With `password_hash`, also sets the password, and for an invitation
    // activates the user -- all in one transaction.
    virtual result<schema::one_time_link> redeem_link(std::string_view secret_hash, schema::link_purpose purpose,
                                                      std::optional<std::string> password_hash,
                                                      const schema::actor& by) = 0;

    virtual result<schema::session> create_session(schema::session s) = 0;
    // An unexpired session by the digest of its secret, if its user is still active.
    virtual std::optional<schema::session> find_session(std::string_view secret_hash) = 0;
    virtual result<void> end_session(std::string_view session_id) = 0;
    virtual result<std::int64_t> end_user_sessions(std::string_view organization_id, std::string_view user_id,
                                                   const schema::actor& by) = 0;
    virtual std::int64_t count_sessions(std::string_view organization_id, std::string_view user_id) = 0;

    // Login activity. A successful attempt also sets the user's last login.
    virtual void record_login(const schema::login_attempt& attempt) = 0;
    // When the newest failed attempts (at most `limit`, newest first) since `since` for this (folded)
    // login name happened; and how many failed from this client address.
    virtual std::vector<core::time_point> failed_logins(std::string_view organization_id,
                                                        std::string_view login_folded, core::time_point since,
                                                        std::int64_t limit) = 0;
    virtual std::int64_t count_failed_logins_from(std::string_view client_address, core::time_point since) = 0;
    virtual std::vector<schema::login_attempt> list_logins(std::string_view organization_id,
                                                           std::string_view user_id, std::int64_t limit) = 0;

    virtual result<schema::mfa_state> get_mfa(std::string_view organization_id, std::string_view user_id) = 0;
    // Replaces the TOTP state (start of enrolment, confirmation, admin reset with an empty state).
    virtual result<void> set_mfa(std::string_view organization_id, std::string_view user_id,
                                 const schema::mfa_state& state, std::string_view action,
                                 const schema::actor& by) = 0;
    // Records that TOTP time step `step` was used; errc::already_used when it (or a later one) was.
    virtual result<void> use_mfa_step(std::string_view organization_id, std::string_view user_id,
                                      std::int64_t step) = 0;
    // Stored TOTP keys in user id order, after `after_user_id` (keyset paging), at most `limit`: for
    // re-encrypting them all (start-up, key rotation).
    struct stored_mfa_secret {
        std::string user_id, secret;
    };
    virtual std::vector<stored_mfa_secret> list_mfa_secrets(std::string_view after_user_id, std::int64_t limit) = 0;
    // Replaces a stored TOTP key if it is still `expected` (compare-and-set: an enrolment or reset that
    // happened meanwhile wins); false otherwise. Not audited: the key itself does not change.
    virtual bool replace_mfa_secret(std::string_view user_id, std::string_view expected,
                                    std::string_view replacement) = 0;

    // Replaces the user's recovery codes with these digests (empty: removes them).
    virtual result<void> set_recovery_codes(std::string_view organization_id, std::string_view user_id,
                                            const std::vector<std::string>& code_hashes, const schema::actor& by) = 0;
    // Marks a recovery code used: errc::not_found when the user has no such code, already_used.
    virtual result<void> use_recovery_code(std::string_view organization_id, std::string_view user_id,
                                           std::string_view code_hash, const schema::actor& by) = 0;
    virtual std::int64_t count_recovery_codes(std::string_view organization_id, std::string_view user_id) = 0;

    virtual result<schema::organization_settings> get_settings(std::string_view organization_id) = 0;
    virtual result<void> set_settings(std::string_view organization_id, const schema::organization_settings& s,
                                      const schema::actor& by) = 0;
};

}  // namespace idgate::store
