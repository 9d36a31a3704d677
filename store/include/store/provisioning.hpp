// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Storage of identity provisioning: IdP connections, the identity bindings that tie an IdP's immutable id
// of a person to a local user, the grants a connection's mapping rules gave (reconciled to desired state),
// the queue of users whose mapping outcome must be worked out again, and identity conflicts held for an
// admin. Same contract as store::store: thread-safe, blocking, one audited transaction per write.
//
// Queueing is done by the store itself, in the transaction of the change that makes it necessary: a user
// write by anyone enqueues every binding of that user, a group change enqueues the bound users it touches
// (all members on a rename), so a crash between a change and its re-evaluation loses nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "schema/account.hpp"
#include "store/errc.hpp"

namespace idgate::store {

struct idp_connection {
    std::string id;
    std::string organization_id;
    std::string name;  // as in the mapping file; unique per organisation
    core::time_point created{};
};

// What a connection's rules grant one user now: the desired state of the grants whose source is that
// connection. Grants from other sources (local admins, other connections) are never touched.
struct mapped_scoped_role {
    schema::scope_kind kind = schema::scope_kind::workspace;
    std::string scope_name;  // created when the organisation has no such workspace or project yet
    schema::scoped_role_name role = schema::scoped_role_name::viewer;
    std::string rule;
};

struct mapped_permission {
    std::string name;
    std::string rule;
};

struct desired_grants {
    std::optional<schema::system_role> system_role;  // none: a system role this connection gave reverts to member
    std::string system_role_rule;
    std::vector<mapped_scoped_role> scoped_roles;
    std::vector<mapped_permission> permissions;
    // Rules whose condition could not be decided (the IdP did not say which groups): what they granted
    // before stays, so a missing groups claim never strips roles.
    std::vector<std::string> keep_rules;
    // Disable the user (the connection's without_grants policy, and no rule grants anything).
    bool disable = false;
};

struct grant_change {
    std::string op;     // "add", "remove", "keep" (an undetermined rule's grant), "skip" (see note), "disable"
    std::string what;   // "system_role", "scoped_role", "permission", "status"
    std::string value;  // "admin", "workspace:Marketing=editor", "active_response", "disabled"
    std::string rule;   // the rule behind an add or keep
    std::string note;   // why a change was skipped (an undefined permission, the last owner)
};

struct reconcile_result {
    std::string user_id;
    std::string user_name;
    std::vector<grant_change> changes;  // empty: already in the desired state
    bool changed() const;
};

// One queued re-evaluation, with the names the mapping registry is keyed by.
struct pending_evaluation {
    std::string user_id;
    std::string organization_id, organization_slug;
    std::string connection_id, connection_name;
    std::string ticket;
};

struct identity_conflict {
    std::string id;
    std::string organization_id;
    std::string connection_id, connection_name;
    std::string subject;  // the IdP's id of the person
    std::string existing_user_id, existing_user_name;
    std::string reason;         // for the admin deciding: which key collided
    std::string proposed_json = "{}";  // what the IdP sent (a SCIM User body), applied on approval
    std::string status = "pending";    // pending, approved, rejected
    core::time_point created{};
    std::optional<core::time_point> decided;
    std::string decided_by;
};

// A single sign-on in progress: what the callback must find again (OIDC state, SAML request id).
struct sign_in_state {
    std::string id;  // the SHA-256 of the state the browser carries
    std::string organization_id;
    std::string connection;  // the connection's name
    std::string protocol;    // "oidc" or "saml"
    std::string nonce, code_verifier, return_to;
    core::time_point created{}, expires{};
};

class provisioning {
public:
    virtual ~provisioning() = default;

    // The connection named `name`, created (audited) on first use.
    virtual result<idp_connection> ensure_connection(std::string_view organization_id, std::string_view name,
                                                     const schema::actor& by) = 0;
    virtual std::optional<idp_connection> find_connection(std::string_view organization_id,
                                                          std::string_view name) = 0;
    virtual std::vector<idp_connection> list_connections(std::string_view organization_id) = 0;

    // Identity bindings.
    virtual std::optional<std::string> bound_user(std::string_view connection_id, std::string_view subject) = 0;
    // The subject the user is bound by on this connection, if it is bound to it at all.
    virtual std::optional<std::string> subject_of(std::string_view connection_id, std::string_view user_id) = 0;
    // Binds `user_id` by `subject` (replacing the user's earlier binding on that connection) and queues
    // its evaluation. errc::already_exists when the subject is bound to another user.
    virtual result<void> bind(std::string_view organization_id, std::string_view connection_id,
                              std::string_view subject, std::string_view user_id, const schema::actor& by) = 0;
    // The connections a user is bound to, with the subject each knows them by (connection name, subject).
    virtual std::vector<std::pair<std::string, std::string>> bindings_of(std::string_view user_id) = 0;
    // Who holds an account, as far as the connection is concerned.
    enum class holder {
        this_connection,   // bound to it
        other_connection,  // bound to another connection only
        local,             // not bound, and a local account (it has a password or was invited)
        nobody,            // not bound, no local credentials (pushed by a SCIM client without a connection)
    };
    virtual result<holder> holder_of(std::string_view organization_id, std::string_view connection_id,
                                     std::string_view user_id) = 0;
    // Users whose primary email is `email` (case-insensitively).
    virtual std::vector<std::string> users_with_email(std::string_view organization_id, std::string_view email) = 0;
    // What the IdP said at the user's last sign-in (JSON, the provisioning module's format), kept for
    // re-evaluation; nullopt when the last word was a SCIM push (or there was none).
    virtual void set_sign_in_identity(std::string_view connection_id, std::string_view user_id,
                                      const std::string& identity_json) = 0;
    virtual std::optional<std::string> sign_in_identity(std::string_view connection_id, std::string_view user_id) = 0;
    // Users bound to the connection, in id order after `after_user_id` (paging for plans).
    virtual std::vector<std::string> bound_users(std::string_view connection_id, std::string_view after_user_id,
                                                 std::int64_t limit) = 0;

    // The re-evaluation queue.
    // Queues every user bound to the connection (after a rule change); returns how many.
    virtual std::int64_t queue_connection(std::string_view connection_id) = 0;
    virtual std::vector<pending_evaluation> next_pending(std::int64_t limit) = 0;
    // The queued evaluations of one user (to settle right after a write).
    virtual std::vector<pending_evaluation> pending_for_user(std::string_view user_id) = 0;
    // Removes the entry unless it was queued again (a new ticket) since it was read.
    virtual void finish_pending(const pending_evaluation& p) = 0;
    virtual std::int64_t count_pending(std::string_view connection_id) = 0;  // "" = every connection

    // Brings the grants whose source is `connection_id` to `desired`, in one transaction with its audit
    // record ("user.grants_reconcile", the changes as details). With `dry_run`, reports the changes without
    // making them (a plan). errc::not_found when the user is gone.
    virtual result<reconcile_result> reconcile_grants(std::string_view organization_id, std::string_view user_id,
                                                      std::string_view connection_id, const desired_grants& desired,
                                                      bool dry_run, const schema::actor& by) = 0;

    // Identity conflicts. Recording one that is already pending returns the pending one.
    virtual result<identity_conflict> record_conflict(identity_conflict c, const schema::actor& by) = 0;
    virtual std::vector<identity_conflict> list_conflicts(std::string_view organization_id,
                                                          std::string_view status) = 0;  // "" = all
    virtual result<identity_conflict> get_conflict(std::string_view organization_id, std::string_view id) = 0;
    // Marks a pending conflict approved (binding its subject to the existing user, in the same
    // transaction) or rejected. errc::already_used when it was decided before.
    virtual result<identity_conflict> decide_conflict(std::string_view organization_id, std::string_view id,
                                                      bool approve, const schema::actor& by) = 0;

    // Single sign-on states: saved at the start of a sign-in, taken (once) by its callback.
    virtual result<void> save_sign_in_state(const sign_in_state& s) = 0;
    // Marks the state used and returns it: errc::not_found (unknown), already_used (replayed), expired.
    virtual result<sign_in_state> take_sign_in_state(std::string_view id) = 0;
    // Also forgets one-time assertion ids past their expiry.
    virtual std::int64_t prune_sign_in_states(core::time_point cutoff) = 0;
    // Records that a connection accepted assertion `assertion_id`, valid until `until`: errc::already_used
    // when it was seen before (a replay).
    virtual result<void> remember_assertion(std::string_view connection_id, std::string_view assertion_id,
                                            core::time_point until) = 0;
    // Ends the sessions a connection started: those of an IdP session (sid), or all of a user's.
    virtual std::int64_t end_idp_sessions(std::string_view connection_id, std::string_view idp_session,
                                          std::string_view user_id) = 0;
    // Ends the sessions a connection started for a SAML NameID (session.idp_subject).
    virtual std::int64_t end_subject_sessions(std::string_view connection_id, std::string_view subject) = 0;

    // Whether the user proved they own their address: accepted an invitation or confirmed an email change.
    virtual bool email_verified(std::string_view organization_id, std::string_view user_id) = 0;
};

}  // namespace idgate::store
