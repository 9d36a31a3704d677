// SPDX-License-Identifier: AGPL-3.0-or-later
// The SOCI implementation of store::store, shared by SQLite and PostgreSQL: organisations, SCIM users
// and groups, tokens, the audit trail and the change feed. Accounts (sessions, credentials, roles) are
// in account_store.cpp; the shared plumbing in sql_runner.hpp. All SQL of idgate is in store/src.
#include "soci_store.hpp"

#include <boost/json/object.hpp>
#include <map>

#include "core/crypto.hpp"
#include "account_store.hpp"
#include "provisioning_store.hpp"
#include "query.hpp"

namespace idgate::store::detail {
namespace {

// ---------------------------------------------------------------------------------------------------

class soci_store final : public store, private sql_runner {
public:
    soci_store(const dialect& d, std::unique_ptr<session_pool> pool, std::size_t write_transactions,
               const core::clock& clock)
        : sql_runner(d, std::move(pool), clock, write_transactions),
          accounts_(make_soci_accounts(*this)),
          provisioning_(make_soci_provisioning(*this)) {}

    accounts& local_accounts() override { return *accounts_; }
    provisioning& identities() override { return *provisioning_; }

    std::string_view backend_name() const override { return d_.name; }
    std::size_t close_idle_connections(std::chrono::steady_clock::time_point now) override {
        return pool_->close_idle(now);
    }
    pool_stats stats() const override {
        pool_stats p = pool_->stats();
        const auto batches = writes_.committed();
        p.group_commits = batches.transactions;
        p.group_committed_writes = batches.writes;
        p.read_ahead_batches = batches.read_ahead;
        return p;
    }

    // -- schema ------------------------------------------------------------------------------------

    schema_status migrate() override {
        return read_only([&](soci::session& sql) {
            // Each migration in its own transaction, under a lock (PostgreSQL: an advisory lock; SQLite:
            // BEGIN IMMEDIATE), re-reading the version inside it: several processes may start at once.
            locked(sql, [&] {
                if (!migrations_table_exists(sql))
                    sql << "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                           "applied_at TEXT NOT NULL)";
                return true;
            });
            for (const auto& m : migrations()) {
                const bool applied = locked(sql, [&] {
                    const int current = database_version(sql);
                    if (current > latest_migration_version()) throw schema_too_new(too_new_message(current));
                    if (m.version <= current) return false;
                    for (auto statement : m.statements)
                        if (const auto text = render_ddl(statement, d_); !text.empty()) sql << text;
                    int version = m.version;
                    std::string name{m.name}, now = ts(clock_.now());
                    sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :a)",
                        use(version, "v"), use(name, "n"), use(now, "a");
                    return true;
                });
                (void)applied;
            }
            // Also refuses a newer database when this binary has no migration left to try.
            const int current = database_version(sql);
            if (current > latest_migration_version()) throw schema_too_new(too_new_message(current));
            return schema_status{current, latest_migration_version()};
        });
    }

    schema_status status() override {
        return read_only([&](soci::session& sql) {
            return schema_status{migrations_table_exists(sql) ? database_version(sql) : 0, latest_migration_version()};
        });
    }

    void ping() override {
        read_only([](soci::session& sql) {
            int one = 0;
            sql << "SELECT 1", into(one);
            return one;
        });
    }

    // -- organisations -----------------------------------------------------------------------------

    result<schema::organization> create_organization(schema::organization org, const actor& by) override {
        org.id = core::new_uuid();
        org.created = org.updated = clock_.now();
        org.version = 1;
        return write<schema::organization>([&](soci::session& sql) -> result<schema::organization> {
            std::string id = org.id, slug = org.slug, name = org.name, mode{schema::to_string(org.sso)},
                        created = ts(org.created);
            sql << "INSERT INTO organizations (id, slug, name, sso_mode, created_at, updated_at, version) "
                   "VALUES (:id, :slug, :name, :mode, :c, :c, 1)",
                use(id, "id"), use(slug, "slug"), use(name, "name"), use(mode, "mode"), use(created, "c");
            const std::string summary =
                boost::json::serialize(boost::json::object{{"id", org.id}, {"slug", org.slug}, {"name", org.name}});
            record(sql, org.id, by, "organization.create", "organization", org.id, org.slug, summary,
                   "organization.created", summary);
            return org;
        });
    }

    result<schema::organization> get_organization(std::string_view id) override {
        return find_organization("id", id);
    }

    result<schema::organization> find_organization_by_slug(std::string_view slug) override {
        return find_organization("slug", slug);
    }

    std::vector<schema::organization> list_organizations() override {
        return read_only([&](soci::session& sql) {
            std::vector<schema::organization> out;
            bound_statement st(sql);
            org_row row;
            row.bind(st);
            if (st.run(std::string("SELECT ") + org_columns + " FROM organizations ORDER BY created_at, id")) {
                do out.push_back(row.to_organization());
                while (st.next());
            }
            return out;
        });
    }

    // -- users -------------------------------------------------------------------------------------

    result<schema::user> create_user(schema::user u, const actor& by) override {
        u.id = core::new_uuid();
        u.created = u.updated = clock_.now();
        u.version = 1;
        return write<schema::user>([&](soci::session& sql) -> result<schema::user> {
            insert_user(sql, u);
            if (!by.connection_id.empty()) {
                bind_identity(sql, u.organization_id, by.connection_id, scim_subject(u), u.id);
                queue_user(sql, u.id);
            }
            const std::string summary = schema::summarize_user(u);
            record(sql, u.organization_id, by, "user.create", "user", u.id, u.user_name, summary, "user.created",
                   summary);
            return u;
        });
    }

    result<schema::user> get_user(std::string_view organization_id, std::string_view id) override {
        // One statement (emails and phone numbers ride along as JSON): consistent without a transaction.
        return read_only([&](soci::session& sql) { return load_user(sql, organization_id, "id", id); });
    }

    result<schema::user> read_user(const user_key& key) override {
        return read_only([&](soci::session& sql) {
            return key.by == user_key::kind::id
                       ? load_user(sql, key.organization_id, "id", key.value, false, scope::directory)
                       : load_user(sql, key.organization_id, "user_name_folded", schema::case_fold(key.value), false,
                                   scope::directory);
        });
    }

    result<schema::user> find_user_by_user_name(std::string_view organization_id,
                                                std::string_view user_name) override {
        return read_only([&](soci::session& sql) {
            return load_user(sql, organization_id, "user_name_folded", schema::case_fold(user_name));
        });
    }

    result<schema::user> update_user(const schema::user& u, std::int64_t expected_version,
                                     const actor& by) override {
        return write<schema::user>([&](soci::session& sql) -> result<schema::user> {
            auto before = load_user(sql, u.organization_id, "id", u.id);
            if (!before) return before.error();
            if (before->version != expected_version) return errc::version_mismatch;
            return store_user_update(sql, *before, u, by);
        });
    }

    result<schema::user> modify_user(std::string_view organization_id, std::string_view id,
                                     const std::function<void(schema::user&)>& change, const actor& by) override {
        return write<schema::user>([&](soci::session& sql) -> result<schema::user> {
            // The row is locked from this read to commit (SQLite: the write transaction already is),
            // so `change` sees the latest state and no concurrent writer can slip in between.
            auto before = load_user(sql, organization_id, "id", id, d_.id == dialect::kind::postgres);
            if (!before) return before.error();
            schema::user after = *before;
            change(after);
            after.id = before->id;
            after.organization_id = before->organization_id;
            return store_user_update(sql, *before, after, by, /*row_locked=*/true);
        }, "user " + std::string(id), [&](soci::session& sql) { read_user_ahead(sql, organization_id, "id", id); });
    }

    result<void> delete_user(std::string_view organization_id, std::string_view id,
                             std::optional<std::int64_t> expected_version, const actor& by) override {
        return write<void>([&](soci::session& sql) -> result<void> {
            // Locked from the version check to the delete (SQLite: the write transaction already is).
            auto before = load_user(sql, organization_id, "id", id, expected_version && postgres());
            if (!before) return before.error();
            if (expected_version && before->version != *expected_version) return errc::version_mismatch;
            std::string org{organization_id}, user_id{id};
            sql << "DELETE FROM users WHERE organization_id = :org AND id = :id", use(org, "org"), use(user_id, "id");
            // Audit records keep the deleted user's id and name: history stays attributable.
            const std::string summary = schema::summarize_user(*before);
            record(sql, org, by, "user.delete", "user", user_id, before->user_name, summary, "user.deleted", summary);
            return {};
        });
    }

    user_page list_users(std::string_view organization_id, std::int64_t offset, std::int64_t limit) override {
        return read_snapshot([&](soci::session& sql) {
            user_page page;
            std::string org{organization_id};
            long long total = 0, off = std::max<std::int64_t>(0, offset), lim = std::max<std::int64_t>(0, limit);
            sql << "SELECT COUNT(*) FROM users WHERE organization_id = :org", use(org, "org"), into(total);
            page.total = total;
            if (lim == 0) return page;
            bound_statement st(sql);
            user_row row;
            row.bind(st);
            st.in(org, "org").in(lim, "lim").in(off, "off");
            if (st.run("SELECT " + user_select_ +
                       " FROM users u WHERE u.organization_id = :org ORDER BY u.created_at, u.id LIMIT :lim OFFSET :off")) {
                do page.users.push_back(row.to_user());
                while (st.next());
            }
            return page;
        });
    }

    result<user_page> find_users(const user_query& q) override {
        if (const auto key = single_user_key(q)) {
            // The existence check Okta and Entra ID send before every create (`userName eq`): one
            // indexed row, read like GET /Users/{id}, without the page and count machinery.
            return page_of_single_user(q, read_user(*key));
        }
        resource_sql t;
        try {
            t = translate(q, postgres());
        } catch (const query_error&) {
            return errc::not_supported;
        }
        return read_only([&](soci::session& sql) -> result<user_page> {
            user_page page;
            user_row row;
            page.total = count_and_page(sql, q.organization_id, t, "users u", user_select_, q.offset, q.limit,
                                        [&](bound_statement& st) { row.bind(st); },
                                        [&] { page.users.push_back(row.to_user()); });
            return page;
        });
    }

    // -- groups ------------------------------------------------------------------------------------

    result<schema::group> create_group(schema::group g, const std::vector<std::string>& member_ids,
                                       const actor& by) override {
        g.id = core::new_uuid();
        g.created = g.updated = clock_.now();
        g.version = 1;
        return write<schema::group>([&](soci::session& sql) -> result<schema::group> {
            std::string id = g.id, org = g.organization_id, name = g.display_name,
                        folded = schema::case_fold(g.display_name), external = g.external_id, now = ts(g.created);
            sql << "INSERT INTO directory_groups (id, organization_id, display_name, display_name_folded, external_id, "
                   "created_at, updated_at, version) VALUES (:id, :org, :name, :folded, :ext, :now, :now, 1)",
                use(id, "id"), use(org, "org"), use(name, "name"), use(folded, "folded"), use(external, "ext"),
                use(now, "now");
            if (!add_members(sql, g.organization_id, g.id, member_ids, now)) return errc::not_found;
            queue_group_members(sql, g.id);
            const std::string summary = boost::json::serialize(boost::json::object{
                {"id", g.id}, {"displayName", g.display_name}, {"members_added", member_ids.size()}});
            record(sql, g.organization_id, by, "group.create", "group", g.id, g.display_name, summary, "group.created",
                   summary);
            return g;
        });
    }

    result<schema::group> get_group(std::string_view organization_id, std::string_view id) override {
        return read_only([&](soci::session& sql) { return load_group(sql, organization_id, id, false); });
    }

    std::vector<schema::group_member> group_members(std::string_view organization_id,
                                                    std::string_view group_id) override {
        return read_only([&](soci::session& sql) {
            std::vector<schema::group_member> out;
            std::string org{organization_id}, gid{group_id}, user_id, user_name;
            bound_statement st(sql);
            st.out(user_id).out(user_name).in(org, "org").in(gid, "g");
            // The directory SCIM clients read: a local-only account (migration 9) that was a member before
            // it was left out of SCIM is not listed either, like the account itself.
            if (st.run("SELECT m.user_id, u.user_name FROM group_members m JOIN users u ON u.id = m.user_id "
                       "WHERE m.group_id = :g AND m.organization_id = :org AND u.local_only = 0 "
                       "ORDER BY m.added_at, m.user_id")) {
                do out.push_back({user_id, user_name});
                while (st.next());
            }
            return out;
        });
    }

    result<schema::group> change_group(std::string_view organization_id, std::string_view id,
                                       const std::vector<schema::group_change>& changes,
                                       std::optional<std::int64_t> expected_version, const actor& by) override {
        return write<schema::group>([&](soci::session& sql) -> result<schema::group> {
            // Lock the group row: concurrent PATCHes of one group apply one after the other, each on
            // the membership the previous one left (INTEROP R5).
            auto before = load_group(sql, organization_id, id, d_.id == dialect::kind::postgres);
            if (!before) return before.error();
            if (expected_version && *expected_version != before->version) return errc::version_mismatch;
            schema::group after = *before;
            after.updated = clock_.now();
            after.version = before->version + 1;
            const std::string now = ts(after.updated), org{organization_id}, gid{id};
            boost::json::object details;
            boost::json::array added, removed;
            std::size_t added_count = 0, removed_count = 0;
            const auto note = [](boost::json::array& list, std::size_t& count, const std::vector<std::string>& ids) {
                // Audit the ids of small changes; for huge ones the count says enough.
                for (const auto& uid : ids)
                    if (list.size() < 100) list.push_back(boost::json::string(uid));
                count += ids.size();
            };
            for (const auto& c : changes) {
                using k = schema::group_change::kind;
                switch (c.type) {
                    case k::rename:
                        // Group conditions match on the name: every bound member is evaluated again.
                        if (c.text != after.display_name) queue_group_members(sql, gid);
                        if (c.text != after.display_name)
                            details["displayName"] = boost::json::object{{"from", after.display_name}, {"to", c.text}};
                        after.display_name = c.text;
                        break;
                    case k::set_external_id:
                        after.external_id = c.text;
                        break;
                    case k::add_members:
                        if (!add_members(sql, org, gid, c.user_ids, now)) return errc::not_found;
                        for (const auto& uid : c.user_ids) queue_user(sql, uid);
                        note(added, added_count, c.user_ids);
                        break;
                    case k::remove_members:
                        for (const auto& uid : c.user_ids) {
                            std::string u = uid;
                            sql << "DELETE FROM group_members WHERE group_id = :g AND user_id = :u", use(gid, "g"),
                                use(u, "u");
                            queue_user(sql, uid);
                        }
                        note(removed, removed_count, c.user_ids);
                        break;
                    case k::remove_all_members:
                    case k::replace_members: {
                        bound_statement st(sql);
                        std::string g = gid;
                        st.in(g, "g");
                        queue_group_members(sql, gid);
                        st.run("DELETE FROM group_members WHERE group_id = :g");
                        details["members_cleared"] = static_cast<std::int64_t>(st.affected_rows());
                        if (c.type == k::replace_members) {
                            if (!add_members(sql, org, gid, c.user_ids, now)) return errc::not_found;
                            queue_group_members(sql, gid);
                            note(added, added_count, c.user_ids);
                        }
                        break;
                    }
                }
            }
            std::string name = after.display_name, folded = schema::case_fold(after.display_name),
                        external = after.external_id;
            long long expected = before->version;
            bound_statement st(sql);
            st.in(name, "name").in(folded, "folded").in(external, "ext").in(now, "now");
            st.in(org, "org").in(gid, "g").in(expected, "expected");
            st.run("UPDATE directory_groups SET display_name = :name, display_name_folded = :folded, external_id = :ext, "
                   "updated_at = :now, version = version + 1 WHERE organization_id = :org AND id = :g AND version = :expected");
            if (st.affected_rows() != 1) return errc::version_mismatch;
            if (added_count) details["members_added"] = boost::json::object{{"count", added_count}, {"ids", added}};
            if (removed_count) details["members_removed"] = boost::json::object{{"count", removed_count}, {"ids", removed}};
            record(sql, org, by, "group.update", "group", gid, after.display_name, boost::json::serialize(details),
                   "group.updated",
                   boost::json::serialize(boost::json::object{
                       {"id", gid}, {"displayName", after.display_name}, {"version", after.version}}));
            return after;
        });
    }

    result<void> delete_group(std::string_view organization_id, std::string_view id,
                              std::optional<std::int64_t> expected_version, const actor& by) override {
        return write<void>([&](soci::session& sql) -> result<void> {
            auto before = load_group(sql, organization_id, id, expected_version && postgres());
            if (!before) return before.error();
            if (expected_version && before->version != *expected_version) return errc::version_mismatch;
            std::string org{organization_id}, gid{id};
            queue_group_members(sql, gid);  // its members lose what the group granted
            sql << "DELETE FROM directory_groups WHERE organization_id = :org AND id = :g", use(org, "org"), use(gid, "g");
            const std::string summary =
                boost::json::serialize(boost::json::object{{"id", gid}, {"displayName", before->display_name}});
            record(sql, org, by, "group.delete", "group", gid, before->display_name, summary, "group.deleted", summary);
            return {};
        });
    }

    result<std::pair<std::vector<schema::group>, std::int64_t>> find_groups(const group_query& q) override {
        resource_sql t;
        try {
            t = translate(q);
        } catch (const query_error&) {
            return errc::not_supported;
        }
        using page = std::pair<std::vector<schema::group>, std::int64_t>;
        return read_only([&](soci::session& sql) -> result<page> {
            page out;
            group_row row;
            out.second = count_and_page(sql, q.organization_id, t, "directory_groups g", group_columns, q.offset,
                                        q.limit, [&](bound_statement& st) { row.bind(st); },
                                        [&] { out.first.push_back(row.to_group()); });
            return out;
        });
    }

    // -- tokens ------------------------------------------------------------------------------------

    result<schema::api_token> create_token(schema::api_token t, const actor& by) override {
        t.id = core::new_uuid();
        t.created = clock_.now();
        t.revoked.reset();
        return write<schema::api_token>([&](soci::session& sql) -> result<schema::api_token> {
            std::string id = t.id, kind{schema::to_string(t.kind)}, org = t.organization_id, conn = t.connection_id,
                        name = t.name, hash = t.secret_hash, created = ts(t.created),
                        expires = t.expires ? ts(*t.expires) : std::string();
            soci::indicator expires_ind = t.expires ? soci::i_ok : soci::i_null;
            sql << "INSERT INTO api_tokens (id, kind, organization_id, connection_id, name, secret_hash, created_at, "
                   "expires_at) VALUES (:id, :kind, :org, :conn, :name, :hash, :created, :expires)",
                use(id, "id"), use(kind, "kind"), use(org, "org"), use(conn, "conn"), use(name, "name"),
                use(hash, "hash"), use(created, "created"), use(expires, expires_ind, "expires");
            // The audit record names the token, never its secret or digest.
            const std::string details = boost::json::serialize(
                boost::json::object{{"kind", kind}, {"name", t.name}, {"connection_id", t.connection_id}});
            record(sql, t.organization_id, by, "token.create", "token", t.id, t.name, details, "token.created",
                   details);
            return t;
        });
    }

    std::optional<schema::api_token> find_token_by_hash(std::string_view secret_hash) override {
        return read_only([&](soci::session& sql) -> std::optional<schema::api_token> {
            std::string hash{secret_hash}, slug, connection;
            soci::indicator slug_ind = soci::i_ok, connection_ind = soci::i_ok;
            token_row row;
            bound_statement st(sql);
            row.bind(st);
            st.out(slug, slug_ind).out(connection, connection_ind);
            st.in(hash, "hash");
            if (!st.run(std::string("SELECT ") + token_columns +
                        ", o.slug, c.name FROM api_tokens t LEFT JOIN organizations o ON o.id = t.organization_id "
                        "LEFT JOIN idp_connections c ON c.id = t.connection_id "
                        "WHERE t.secret_hash = :hash AND t.revoked_at IS NULL"))
                return std::nullopt;
            auto token = row.to_token();
            if (slug_ind == soci::i_ok) token.organization_slug = slug;
            if (connection_ind == soci::i_ok) token.connection_name = connection;
            return token;
        });
    }

    std::int64_t count_active_tokens(schema::token_kind kind) override {
        return read_only([&](soci::session& sql) {
            std::string k{schema::to_string(kind)};
            long long n = 0;
            sql << "SELECT COUNT(*) FROM api_tokens WHERE kind = :k AND revoked_at IS NULL", use(k, "k"), into(n);
            return static_cast<std::int64_t>(n);
        });
    }

    std::vector<schema::api_token> list_tokens(std::string_view organization_id) override {
        return read_only([&](soci::session& sql) {
            std::vector<schema::api_token> out;
            std::string org{organization_id}, connection;
            token_row row;
            bound_statement st(sql);
            row.bind(st);
            st.out(connection);
            st.in(org, "org");
            if (st.run(std::string("SELECT ") + token_columns +
                       ", COALESCE(c.name, '') FROM api_tokens t LEFT JOIN idp_connections c ON c.id = "
                       "t.connection_id WHERE t.organization_id = :org AND t.revoked_at IS NULL "
                       "ORDER BY t.created_at, t.id")) {
                do {
                    out.push_back(row.to_token());
                    out.back().connection_name = connection;
                } while (st.next());
            }
            return out;
        });
    }

    result<void> revoke_token(std::string_view id, const actor& by) override {
        return write<void>([&](soci::session& sql) -> result<void> {
            std::string token_id{id}, now = ts(clock_.now()), org, name;
            soci::indicator org_ind = soci::i_ok;
            sql << "SELECT organization_id, name FROM api_tokens WHERE id = :id AND revoked_at IS NULL",
                use(token_id, "id"), into(org, org_ind), into(name);
            if (!sql.got_data()) return errc::not_found;
            sql << "UPDATE api_tokens SET revoked_at = :now WHERE id = :id", use(now, "now"), use(token_id, "id");
            const std::string details = boost::json::serialize(boost::json::object{{"name", name}});
            record(sql, org, by, "token.revoke", "token", token_id, name, details, "token.revoked", details);
            return {};
        });
    }

    // -- audit and change feed ---------------------------------------------------------------------

    std::vector<schema::audit_record> list_audit(std::string_view organization_id, std::int64_t after_id,
                                                 std::int64_t limit) override {
        return read_only([&](soci::session& sql) {
            std::vector<schema::audit_record> out;
            std::string org{organization_id}, at;
            long long after = after_id, lim = limit, id = 0;
            schema::audit_record r;
            bound_statement st(sql);
            st.out(id).out(r.organization_id).out(at).out(r.actor.kind).out(r.actor.id).out(r.actor.display);
            st.out(r.actor.client_address).out(r.actor.request_id).out(r.action).out(r.target_type);
            st.out(r.target_id).out(r.target_display).out(r.details_json);
            st.in(org, "org").in(after, "after").in(lim, "lim");
            if (st.run("SELECT id, organization_id, at, actor_kind, actor_id, actor_display, client_address, "
                       "request_id, action, target_type, target_id, target_display, details FROM audit_records "
                       "WHERE organization_id = :org AND id > :after ORDER BY id LIMIT :lim")) {
                do {
                    r.id = id;
                    r.at = parse_ts(at);
                    out.push_back(r);
                } while (st.next());
            }
            return out;
        });
    }

    void record_audit(std::string_view organization_id, const actor& by, std::string_view action,
                      std::string_view target_type, std::string_view target_id, std::string_view target_display,
                      const std::string& details_json) override {
        (void)write<void>([&](soci::session& sql) -> result<void> {
            record(sql, std::string(organization_id), by, action, target_type, std::string(target_id),
                   std::string(target_display), details_json, "", "");
            return {};
        });
    }

    std::vector<schema::audit_record> find_audit(const audit_query& q) override {
        return read_only([&](soci::session& sql) {
            std::string where = "organization_id = :org";
            std::vector<std::string> params;
            const auto bind = [&](std::string v) {
                params.push_back(std::move(v));
                return ":p" + std::to_string(params.size() - 1);
            };
            if (!q.actor_id.empty()) where += " AND actor_id = " + bind(q.actor_id);
            if (!q.target_id.empty()) where += " AND target_id = " + bind(q.target_id);
            if (!q.action.empty()) {
                if (q.action.back() == '.')
                    where += " AND action LIKE " + bind(detail::escape_like(q.action) + "%") + " ESCAPE '\\'";
                else
                    where += " AND action = " + bind(q.action);
            }
            if (q.from) where += " AND at >= " + bind(ts(*q.from));
            if (q.to) where += " AND at < " + bind(ts(*q.to));
            if (q.after_id > 0) where += " AND id > :after";
            if (q.before_id > 0) where += " AND id < :before";
            std::vector<schema::audit_record> out;
            std::string org = q.organization_id, at;
            long long lim = q.limit, id = 0, after = q.after_id, before = q.before_id;
            schema::audit_record r;
            bound_statement st(sql);
            if (q.after_id > 0) st.in(after, "after");
            if (q.before_id > 0) st.in(before, "before");
            st.out(id).out(r.organization_id).out(at).out(r.actor.kind).out(r.actor.id).out(r.actor.display);
            st.out(r.actor.client_address).out(r.actor.request_id).out(r.action).out(r.target_type);
            st.out(r.target_id).out(r.target_display).out(r.details_json);
            st.in(org, "org").in(lim, "lim");
            for (std::size_t i = 0; i < params.size(); ++i) st.in(params[i], ("p" + std::to_string(i)).c_str());
            std::string sql_text = "SELECT id, organization_id, at, actor_kind, actor_id, actor_display, "
                                   "client_address, request_id, action, target_type, target_id, target_display, "
                                   "details FROM audit_records WHERE " + where + " ORDER BY id" +
                                   (q.newest_first ? " DESC" : "") + " LIMIT :lim";
            if (st.run(sql_text)) {
                do {
                    r.id = id;
                    r.at = parse_ts(at);
                    out.push_back(r);
                } while (st.next());
            }
            return out;
        });
    }

    std::int64_t sequence_changes() override {
        std::int64_t total = 0;
        for (;;) {
            auto r = write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
                // One relay at a time, across every node sharing the database.
                if (d_.id == dialect::kind::postgres) sql << "SELECT pg_advisory_xact_lock(7461636770)";
                // One statement numbers a batch: each pending event gets its organisation's last
                // sequence plus its rank among that organisation's pending events (in id order, which
                // is commit order for the relay's purposes), and reports what it handed out. (It used
                // to be a statement per event: about 1,000 numbered per second, fewer than PostgreSQL
                // commits under a SCIM import.)
                std::map<std::string, long long> last;  // organisation -> last sequence handed out
                long long numbered = 0;
                {
                    std::string org;
                    long long sequence = 0;
                    bound_statement st(sql);
                    st.out(org).out(sequence);
                    if (st.run("UPDATE change_events SET sequence = numbered.sequence FROM (SELECT e.id, "
                               "COALESCE(s.last_sequence, 0) + ROW_NUMBER() OVER (PARTITION BY e.organization_id "
                               "ORDER BY e.id) AS sequence FROM (SELECT id, organization_id FROM change_events WHERE "
                               "sequence IS NULL ORDER BY id LIMIT 1000) e LEFT JOIN change_sequences s ON "
                               "s.organization_id = e.organization_id) numbered WHERE change_events.id = numbered.id "
                               "RETURNING change_events.organization_id, change_events.sequence")) {
                        do {
                            ++numbered;
                            auto& l = last[org];
                            l = std::max(l, sequence);
                        } while (st.next());
                    }
                }
                for (auto& [org, sequence] : last) {
                    std::string o = org;
                    long long l = sequence;
                    bound_statement st(sql);
                    st.in(o, "org").in(l, "last");
                    st.run("INSERT INTO change_sequences (organization_id, last_sequence) VALUES (:org, :last) "
                           "ON CONFLICT (organization_id) DO UPDATE SET last_sequence = excluded.last_sequence");
                }
                return static_cast<std::int64_t>(numbered);
            });
            const auto n = r.value();
            total += n;
            if (n < 1000) return total;
        }
    }

    std::vector<schema::change_event> list_changes(std::string_view organization_id, std::int64_t after_sequence,
                                                   std::int64_t limit) override {
        // Readers see every committed change: number what the relay has not numbered yet.
        sequence_changes();
        return read_only([&](soci::session& sql) {
            std::vector<schema::change_event> out;
            std::string org{organization_id}, at;
            long long after = after_sequence, lim = limit, seq = 0;
            schema::change_event e;
            bound_statement st(sql);
            st.out(e.organization_id).out(seq).out(at).out(e.type).out(e.resource_type).out(e.resource_id);
            st.out(e.payload_json);
            st.in(org, "org").in(after, "after").in(lim, "lim");
            if (st.run("SELECT organization_id, sequence, at, type, resource_type, resource_id, payload FROM "
                       "change_events WHERE organization_id = :org AND sequence > :after ORDER BY sequence "
                       "LIMIT :lim")) {
                do {
                    e.sequence = seq;
                    e.at = parse_ts(at);
                    out.push_back(e);
                } while (st.next());
            }
            return out;
        });
    }

    std::int64_t prune_changes(core::time_point cutoff) override {
        auto r = write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            std::string before = ts(cutoff);
            bound_statement st(sql);
            st.in(before, "before");
            // Unnumbered events are never pruned: a reader has not had the chance to see them. Events
            // are found in id order (the primary key) up to the first one that is young enough: ids and
            // times rise together, and the subquery reads no more rows than the delete removes.
            st.run("DELETE FROM change_events WHERE at < :before AND sequence IS NOT NULL AND id < COALESCE((SELECT id "
                   "FROM change_events WHERE at >= :before ORDER BY id LIMIT 1), 9223372036854775807)");
            return static_cast<std::int64_t>(st.affected_rows());
        });
        return r.value();
    }

private:
    // -- organisations row -------------------------------------------------------------------------

    static constexpr const char* org_columns = "id, slug, name, sso_mode, created_at, updated_at, version";

    struct org_row {
        std::string id, slug, name, mode, created, updated;
        long long version = 1;
        void bind(bound_statement& st) {
            st.out(id).out(slug).out(name).out(mode).out(created).out(updated).out(version);
        }
        schema::organization to_organization() const {
            return {id, slug, name, schema::parse_sso_mode(mode).value_or(schema::sso_mode::off), parse_ts(created),
                    parse_ts(updated), version};
        }
    };

    result<schema::organization> find_organization(const char* column, std::string_view key) {
        return read_only([&](soci::session& sql) -> result<schema::organization> {
            std::string k{key};
            org_row row;
            bound_statement st(sql);
            row.bind(st);
            st.in(k, "k");
            if (!st.run(std::string("SELECT ") + org_columns + " FROM organizations WHERE " + column + " = :k"))
                return errc::not_found;
            return row.to_organization();
        });
    }

    // -- queries ---------------------------------------------------------------------------------------

    // One page of the filtered rows and the count of all of them. `bind_row` binds the columns of
    // `select`, `on_row` takes each fetched row. Returns the count.
    //
    // Usually one statement: the page's ids with COUNT(*) OVER () (window functions run before LIMIT, so
    // that is the count of every match), joined back to compute the columns of those rows only. A page
    // past the end has no row to carry the count: a separate COUNT follows. A cursor's page counts
    // other rows than it returns (count_where has no cursor position): COUNT and page run in one
    // snapshot.
    std::int64_t count_and_page(soci::session& sql, const std::string& organization_id, const resource_sql& t,
                                const std::string& from, const std::string& select, std::int64_t offset,
                                std::int64_t limit, const std::function<void(bound_statement&)>& bind_row,
                                const std::function<void()>& on_row) {
        std::string org = organization_id;
        std::vector<std::string> params = t.params;  // bound by reference: kept alive here
        const auto bind_filter = [&](bound_statement& st, std::size_t count) {
            st.in(org, "org");
            for (std::size_t i = 0; i < count; ++i) st.in(params[i], ("p" + std::to_string(i)).c_str());
        };
        const auto count_all = [&](soci::session& s) {
            long long total = 0;
            bound_statement st(s);
            st.out(total);
            bind_filter(st, t.count_params);
            st.run("SELECT COUNT(*) FROM " + from + " WHERE " + t.count_where);
            return static_cast<std::int64_t>(total);
        };
        if (limit <= 0) return count_all(sql);
        long long lim = limit, off = std::max<std::int64_t>(0, offset);
        if (t.count_where == t.where) {
            const std::string alias = from.substr(from.rfind(' ') + 1);
            long long total = 0;
            bound_statement st(sql);
            bind_row(st);
            st.out(total);
            bind_filter(st, params.size());
            st.in(lim, "lim").in(off, "off");
            const bool any = st.run("SELECT " + select + ", page.total FROM (SELECT " + alias +
                                    ".id AS page_id, COUNT(*) OVER () AS total FROM " + from + " WHERE " + t.where +
                                    " ORDER BY " + t.order_by + " LIMIT :lim OFFSET :off) page JOIN " + from + " ON " +
                                    alias + ".id = page.page_id ORDER BY " + t.order_by);
            if (any) {
                do on_row();
                while (st.next());
                return total;
            }
            if (off == 0) return 0;
            return count_all(sql);  // past the end: the count alone
        }
        return read_snapshot_on(sql, [&](soci::session& s) {
            const std::int64_t total = count_all(s);
            bound_statement st(s);
            bind_row(st);
            bind_filter(st, params.size());
            st.in(lim, "lim").in(off, "off");
            if (st.run("SELECT " + select + " FROM " + from + " WHERE " + t.where + " ORDER BY " + t.order_by +
                       " LIMIT :lim OFFSET :off")) {
                do on_row();
                while (st.next());
            }
            return total;
        });
    }

    // -- groups, inside a caller's transaction -----------------------------------------------------

    static constexpr const char* group_columns =
        "g.id, g.organization_id, g.display_name, g.external_id, g.created_at, g.updated_at, g.version";

    struct group_row {
        std::string id, org, name, external, created, updated;
        long long version = 1;
        void bind(bound_statement& st) {
            st.out(id).out(org).out(name).out(external).out(created).out(updated).out(version);
        }
        schema::group to_group() const {
            return {id, org, name, external, parse_ts(created), parse_ts(updated), version};
        }
    };

    result<schema::group> load_group(soci::session& sql, std::string_view organization_id, std::string_view id,
                                     bool for_update) {
        std::string org{organization_id}, gid{id};
        group_row row;
        bound_statement st(sql);
        row.bind(st);
        st.in(org, "org").in(gid, "g");
        if (!st.run(std::string("SELECT ") + group_columns +
                    " FROM directory_groups g WHERE g.organization_id = :org AND g.id = :g" +
                    (for_update ? " FOR UPDATE" : "")))
            return errc::not_found;
        return row.to_group();
    }

    // Adds members one indexed statement each; only users of the same organisation's directory qualify (a
    // local-only account is not one to a SCIM client: GET answers 404 for it). Returns false when an id is
    // not such a user (the caller rolls back).
    static bool add_members(soci::session& sql, const std::string& organization_id, const std::string& group_id,
                            const std::vector<std::string>& user_ids, const std::string& now) {
        for (const auto& uid : user_ids) {
            std::string org = organization_id, g = group_id, u = uid, at = now;
            bound_statement st(sql);
            st.in(g, "g").in(u, "u").in(org, "org").in(at, "now");
            // The WHERE keeps SQLite's parser from reading ON CONFLICT as a join constraint.
            st.run("INSERT INTO group_members (group_id, user_id, organization_id, added_at) "
                   "SELECT :g, u.id, u.organization_id, :now FROM users u WHERE u.id = :u AND u.organization_id = :org "
                   "AND u.local_only = 0 ON CONFLICT (group_id, user_id) DO NOTHING");
            if (st.affected_rows() == 1) continue;
            long long exists = 0;
            sql << "SELECT COUNT(*) FROM users WHERE id = :u AND organization_id = :org AND local_only = 0",
                use(u, "u"), use(org, "org"), into(exists);
            if (exists == 0) return false;  // not a user here; an existing membership is fine (idempotent add)
        }
        return true;
    }

    // -- tokens row --------------------------------------------------------------------------------

    static constexpr const char* token_columns =
        "t.id, t.kind, t.organization_id, t.connection_id, t.name, t.secret_hash, t.created_at, t.expires_at";

    struct token_row {
        std::string id, kind, org, conn, name, hash, created, expires;
        soci::indicator expires_ind = soci::i_ok;
        void bind(bound_statement& st) {
            st.out(id).out(kind).out(org).out(conn).out(name).out(hash).out(created).out(expires, expires_ind);
        }
        schema::api_token to_token() const {
            schema::api_token t;
            t.id = id;
            t.kind = schema::parse_token_kind(kind).value_or(schema::token_kind::scim);
            t.organization_id = org;
            t.connection_id = conn;
            t.name = name;
            t.secret_hash = hash;
            t.created = parse_ts(created);
            t.expires = parse_optional_ts(expires, expires_ind);
            return t;
        }
    };

    std::unique_ptr<accounts> accounts_;
    std::unique_ptr<provisioning> provisioning_;
};

}  // namespace

std::unique_ptr<store> make_soci_store(const dialect& d, std::unique_ptr<session_pool> pool,
                                       std::size_t write_transactions, const core::clock& clock) {
    return std::make_unique<soci_store>(d, std::move(pool), write_transactions, clock);
}

}  // namespace idgate::store::detail
