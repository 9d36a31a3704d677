// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The storage interface. One implementation (SOCI) serves SQLite and PostgreSQL; the conformance
// suite in tests/store runs the same tests against both.
//
// Contract, for every method:
// - Thread-safe: each call borrows its own connection from the pool.
// - Blocking: call it from the gateway's blocking pool, never from an I/O thread.
// - Every write is one transaction that also writes its audit record and its change event, so a change
//   is never visible without them and a failed call leaves nothing behind.
// - Uniqueness is decided by unique indexes, not by check-then-insert: errc::already_exists.
// - Updates are compare-and-swap on `version`: errc::version_mismatch when it moved.
// - Infrastructure failures throw store::unavailable; SOCI's exceptions never escape.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "schema/filter.hpp"
#include "schema/model.hpp"
#include "store/errc.hpp"

namespace idgate::store {

class accounts;
class provisioning;

struct pool_stats {
    std::size_t size = 0;
    std::size_t in_use = 0;
    std::size_t waiting = 0;
    std::size_t open = 0;  // connections open (idle ones are closed down to pool_options::keep_open)
    // Group commit: transactions committed, and the writes they carried.
    std::uint64_t group_commits = 0;
    std::uint64_t group_committed_writes = 0;
    // PostgreSQL: shared transactions that sent their writes' reads together, before running them.
    std::uint64_t read_ahead_batches = 0;
};

struct schema_status {
    int database_version = 0;  // highest migration applied to the database
    int binary_version = 0;    // highest migration this binary knows
    bool current() const { return database_version == binary_version; }
};

struct user_page {
    std::vector<schema::user> users;
    std::int64_t total = 0;
};

// A SCIM-style query over one organisation's users (RFC 7644 §3.4.2). Filters run in the database:
// every attribute the filter names must map to a column, or the query is refused -- a clause is never
// dropped (dropping one would widen the result).
// A keyset position for cursor paging (RFC 9865): the rows after this one in creation order. Unlike an
// offset, it costs an index seek however deep the walk, and users deleted meanwhile shift nothing.
struct user_position {
    core::time_point created{};
    std::string id;
};

// An attribute of a user extension schema kept in the user's extensions JSON (the enterprise extension's
// employeeNumber or manager.value, an attribute of a configured extension) that filters may name, with the
// URN (RFC 7644 §3.10). Spelled as stored. Not indexed: such a clause is evaluated on each of the
// organisation's users that the rest of the filter leaves.
struct extension_attribute {
    enum class value_type { string, case_exact_string, boolean, integer, decimal, date_time };
    std::string schema_urn, name, sub_attribute;
    value_type type = value_type::string;
};

struct user_query {
    std::string organization_id;
    schema::filter_ptr filter;   // null: all users
    std::string sort_by;         // a SCIM attribute path; empty: creation order
    bool descending = false;
    std::int64_t offset = 0;     // rows to skip (SCIM startIndex - 1)
    std::int64_t limit = 100;    // 0: count only
    std::optional<user_position> after;  // cursor paging: creation order only, offset ignored
    std::vector<extension_attribute> extension_attributes = {};  // filterable beyond the built-in columns
};

struct group_query {
    std::string organization_id;
    schema::filter_ptr filter;
    std::string sort_by;
    bool descending = false;
    std::int64_t offset = 0;
    std::int64_t limit = 100;
};

// A filtered read of an organisation's audit trail. Empty fields do not filter.
struct audit_query {
    std::string organization_id;
    std::string actor_id;
    std::string target_id;
    std::string action;  // exact ("user.update"), or a prefix ending in '.' ("user.")
    std::optional<core::time_point> from, to;  // inclusive, exclusive
    std::int64_t after_id = 0;   // ascending: records after this id
    std::int64_t before_id = 0;  // newest first: records before this id (0: from the newest)
    bool newest_first = false;
    std::int64_t limit = 100;
};

// Why `q` cannot run (an unknown or unfilterable attribute, an operator its type does not support, a
// malformed dateTime...), in words for the client; nullopt when it can.
std::optional<std::string> validate(const user_query& q);
std::optional<std::string> validate(const group_query& q);

// One user by a unique, indexed key: what `GET /Users/{id}` reads, and the `userName eq` existence check
// Okta and Entra ID send before every create.
struct user_key {
    enum class kind { id, user_name };
    kind by = kind::id;
    std::string organization_id;
    std::string value;  // the id, or the userName as given (matched case-insensitively)
};

// The key of the only user `q` can match: a filter that is nothing but `userName eq "..."` (userName is
// unique per organisation, RFC 7643 §4.1.1), outside a cursor walk. nullopt for any other query.
std::optional<user_key> single_user_key(const user_query& q);
// The page `q` asks for when `found` is the only user it can match (or errc::not_found): its window and
// count apply to that one row exactly as find_users would apply them.
result<user_page> page_of_single_user(const user_query& q, result<schema::user>&& found);

class store {
public:
    virtual ~store() = default;

    // Applies every pending migration, each in its own transaction, and records it. Safe to run from
    // several processes at once. Throws schema_too_new when the database is ahead of this binary.
    virtual schema_status migrate() = 0;
    virtual schema_status status() = 0;
    // One round trip to the database; throws unavailable when it does not answer.
    virtual void ping() = 0;
    virtual pool_stats stats() const = 0;
    // Closes pool connections unused for pool_options::idle_seconds as of `now`, keeping keep_open of them;
    // the next lease that needs one opens it again. Returns how many it closed. Housekeeping calls it.
    virtual std::size_t close_idle_connections(std::chrono::steady_clock::time_point now) = 0;
    virtual std::string_view backend_name() const = 0;
    // Local user management's storage (store/accounts.hpp), on the same database and pool.
    virtual accounts& local_accounts() = 0;
    // Identity provisioning's storage (store/provisioning.hpp): connections, bindings, reconciliation.
    virtual provisioning& identities() = 0;

    // Organisations (tenants).
    virtual result<schema::organization> create_organization(schema::organization org, const schema::actor& by) = 0;
    virtual result<schema::organization> get_organization(std::string_view id) = 0;
    virtual result<schema::organization> find_organization_by_slug(std::string_view slug) = 0;
    virtual std::vector<schema::organization> list_organizations() = 0;

    // Users. `id`, `created`, `updated` and `version` are assigned by the store.
    virtual result<schema::user> create_user(schema::user user, const schema::actor& by) = 0;
    virtual result<schema::user> get_user(std::string_view organization_id, std::string_view id) = 0;
    virtual result<schema::user> find_user_by_user_name(std::string_view organization_id,
                                                        std::string_view user_name) = 0;
    // One user of the directory, as SCIM clients read it (GET /Users/{id}, the `userName eq` check):
    // accounts that exist only in local user management, bound to no identity provider, are not found
    // (INTEROP O14). find_users reads the same directory.
    virtual result<schema::user> read_user(const user_key& key) = 0;
    // Replaces every mutable field of the stored user with `user`'s, if its version is still
    // `expected_version`. Deactivating a user (active true -> false) ends all of their sessions in the
    // same transaction.
    virtual result<schema::user> update_user(const schema::user& user, std::int64_t expected_version,
                                             const schema::actor& by) = 0;
    // Read-modify-write in one transaction with the row locked: `change` receives the current user and
    // edits it (it may throw to abort; nothing is written then). For relative changes such as SCIM
    // PATCH, where retrying on a version conflict would be wasted work under contention.
    virtual result<schema::user> modify_user(std::string_view organization_id, std::string_view id,
                                             const std::function<void(schema::user&)>& change,
                                             const schema::actor& by) = 0;
    // With `expected_version`, deletes only if the user is still at that version (errc::version_mismatch
    // otherwise), decided inside the deleting transaction: SCIM DELETE with If-Match (RFC 7644 §3.14).
    virtual result<void> delete_user(std::string_view organization_id, std::string_view id,
                                     std::optional<std::int64_t> expected_version, const schema::actor& by) = 0;
    // Stable order (by creation, then id), `offset` rows skipped.
    virtual user_page list_users(std::string_view organization_id, std::int64_t offset, std::int64_t limit) = 0;
    // The directory SCIM clients read (no local-only accounts, as read_user): filtered, sorted, paged;
    // order is stable across pages (ties broken by id). errc::not_supported when validate(q) would refuse it.
    virtual result<user_page> find_users(const user_query& q) = 0;

    // Groups. Membership changes are set-based statements on membership rows: adding one member to a
    // group of 100,000 costs what it costs for a group of 10. A member id that is not a user of the
    // group's organisation fails the whole call with errc::not_found (nothing is written).
    virtual result<schema::group> create_group(schema::group group, const std::vector<std::string>& member_ids,
                                               const schema::actor& by) = 0;
    virtual result<schema::group> get_group(std::string_view organization_id, std::string_view id) = 0;
    virtual std::vector<schema::group_member> group_members(std::string_view organization_id,
                                                            std::string_view group_id) = 0;
    // Applies `changes` in order, in one transaction; `expected_version` (if set) must match.
    virtual result<schema::group> change_group(std::string_view organization_id, std::string_view id,
                                               const std::vector<schema::group_change>& changes,
                                               std::optional<std::int64_t> expected_version,
                                               const schema::actor& by) = 0;
    virtual result<void> delete_group(std::string_view organization_id, std::string_view id,
                                      std::optional<std::int64_t> expected_version, const schema::actor& by) = 0;
    // Filter on id, externalId, displayName, meta.created, meta.lastModified; same rules as users.
    virtual result<std::pair<std::vector<schema::group>, std::int64_t>> find_groups(const group_query& q) = 0;

    // Bearer tokens, stored as SHA-256 digests.
    virtual result<schema::api_token> create_token(schema::api_token token, const schema::actor& by) = 0;
    // Active (not revoked) token by digest; expiry is the caller's check, against its clock.
    virtual std::optional<schema::api_token> find_token_by_hash(std::string_view secret_hash) = 0;
    virtual std::int64_t count_active_tokens(schema::token_kind kind) = 0;
    // Active tokens of an organisation (digests included; callers must not show them).
    virtual std::vector<schema::api_token> list_tokens(std::string_view organization_id) = 0;
    virtual result<void> revoke_token(std::string_view id, const schema::actor& by) = 0;

    // An audit record for something that changed nothing stored (a refused sign-in, for instance).
    virtual void record_audit(std::string_view organization_id, const schema::actor& by, std::string_view action,
                              std::string_view target_type, std::string_view target_id,
                              std::string_view target_display, const std::string& details_json) = 0;
    // Audit records matching `q`, in id order (newest first when `newest_first`).
    virtual std::vector<schema::audit_record> find_audit(const audit_query& q) = 0;
    // Audit trail and change feed. `organization_id` empty = instance-level records.
    virtual std::vector<schema::audit_record> list_audit(std::string_view organization_id, std::int64_t after_id,
                                                         std::int64_t limit) = 0;
    // Numbered events after `after_sequence`, in sequence order. Numbers pending events first, so a
    // reader sees every change committed before the call.
    virtual std::vector<schema::change_event> list_changes(std::string_view organization_id,
                                                           std::int64_t after_sequence, std::int64_t limit) = 0;
    // The outbox relay: gives committed, unnumbered change events their per-organisation sequence
    // numbers (gap-free, increasing). Safe to run from several nodes at once. Returns how many.
    virtual std::int64_t sequence_changes() = 0;
    // Deletes change events older than `cutoff`; returns how many. The sequence counters are kept, so
    // sequences never restart.
    virtual std::int64_t prune_changes(core::time_point cutoff) = 0;
};

struct sqlite_options {
    std::string path;  // a file; ":memory:" only for single-connection tests
    int busy_timeout_ms = 5000;
    int pool_size = 4;
};

struct postgres_options {
    std::string connection;  // libpq connection string
    int pool_size = 8;
    // Write transactions running at once. Writers beyond them wait and then share one transaction and its
    // commit (group commit, store/src/write_batch.hpp); at most pool_size.
    int write_transactions = 2;
    // Connections in pipeline mode for one-user reads driven by the I/O thread (store/user_reader.hpp),
    // besides the pool; 0: those reads use the pool too. One by default: on two cores, one connection
    // answered 26,000-30,000 reads/s with a p99 of 3-5 ms, two 16,000-28,000/s with p99s up to 64 ms
    // (the second backend competes for the cores the I/O thread needs; docs/benchmarks.md). Each is one
    // PostgreSQL backend's core at most: more pay off only where the database has cores to spare.
    int pipelined_read_connections = 1;
};

struct pool_options {
    int acquire_timeout_ms = 5000;  // waiting longer than this for a connection is `unavailable`
    int idle_seconds = 60;          // a connection unused this long is closed (close_idle_connections)...
    int keep_open = 2;              // ...unless only this many are open
};

// Opens the pool. Does not migrate: call migrate() (the server does at start-up). Throws unavailable
// when the database cannot be reached.
std::unique_ptr<store> open_sqlite(const sqlite_options& options, const core::clock& clock,
                                   pool_options pool = {});
std::unique_ptr<store> open_postgres(const postgres_options& options, const core::clock& clock,
                                     pool_options pool = {});

}  // namespace idgate::store
