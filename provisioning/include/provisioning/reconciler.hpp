// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Rules are desired state. The reconciler works through the queue of users whose mapping outcome must be
// worked out again (the store fills it in the transaction of each change: a profile edit, a membership
// change, a rule change) and brings the grants each connection gave them to what its rules say now --
// adding and removing -- one audited transaction per user. Crash-safe: an entry leaves the queue only after
// its user was reconciled. Idempotent: several nodes may drain at once.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "mapping/registry.hpp"
#include "scim/schema_definitions.hpp"
#include "store/provisioning.hpp"
#include "store/store.hpp"

namespace idgate::provisioning {

// What an IdP said about a stored user, in the vocabulary of its mapping rules: the user's SCIM
// representation (as the IdP pushed it) and its group memberships, which SCIM knows exactly.
mapping::identity identity_of(const schema::user& u, const scim::extension_registry& extensions);

// What a sign-in's IdP said, kept with the binding so that rules can be evaluated on it again when they
// change: {"attributes": {"name": ["value", ...]}, "groups": [...] | null}. Reading is lenient: a stored
// document that cannot be read gives an identity with unknown groups (which never strips roles).
std::string identity_to_json(const mapping::identity& who);
mapping::identity identity_from_stored_json(const std::string& text);

// The grants `file`'s rules give `u` (and whether its without_grants policy disables it).
store::desired_grants desired_for(const mapping::mapping_file& file, const mapping::outcome& o);

struct drain_result {
    std::int64_t evaluated = 0;
    std::int64_t changed = 0;  // users whose grants or status changed
};

struct reconciler_totals {
    std::uint64_t evaluated = 0, changed = 0, runs = 0;
};

class reconciler {
public:
    reconciler(store::store& db, const scim::extension_registry& extensions);

    // Works through up to `max` queued evaluations with `rules`. A connection without a mapping file is
    // left as it is (deleting a file never strips roles). Throws store::unavailable.
    drain_result drain(const mapping::snapshot& rules, std::int64_t max);
    // Works through the queued evaluations of these users only (right after a write that touched them).
    drain_result drain_users(const mapping::snapshot& rules, const std::vector<std::string>& user_ids);

    // Queues every user bound to the connections of `files` (after a rule change). Returns how many.
    std::int64_t queue_all(const std::vector<mapping::mapping_file>& files);

    // What `file`'s rules would change for the users bound to its connection, without changing anything
    // (only users with changes are returned, at most `limit`); `examined` counts the users looked at.
    std::vector<store::reconcile_result> plan(const mapping::mapping_file& file, std::int64_t limit,
                                              std::int64_t& examined);

    reconciler_totals totals() const;
    const scim::extension_registry& extensions() const { return extensions_; }

private:
    void process(const mapping::snapshot& rules, const store::pending_evaluation& p, drain_result& out);
    std::optional<store::reconcile_result> reconcile_one(const mapping::mapping_file& file,
                                                         const std::string& organization_id,
                                                         const std::string& user_id,
                                                         const std::string& connection_id, bool dry_run);

    store::store& db_;
    const scim::extension_registry& extensions_;
    std::atomic<std::uint64_t> evaluated_{0}, changed_{0}, runs_{0};
};

}  // namespace idgate::provisioning
