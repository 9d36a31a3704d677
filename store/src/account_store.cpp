// SPDX-License-Identifier: AGPL-3.0-or-later
// The SOCI implementation of store::accounts: local user management's tables (role assignments, user
// permissions, one-time links, sessions, login events, TOTP state, organisation settings).
#include "account_store.hpp"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/crypto.hpp"
#include "query.hpp"

namespace idgate::store::detail {
namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto comma = text.find(',', start);
        const auto end = comma == std::string::npos ? text.size() : comma;
        if (end > start) out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The account columns after the user's: role, permissions, password?, MFA?, invitation, login counts.
struct account_row {
    user_row user;
    std::string role, permissions, custom_roles, role_permissions, scoped_json, invitation_created, invitation_expires;
    soci::indicator role_ind = soci::i_ok, permissions_ind = soci::i_ok, custom_roles_ind = soci::i_ok,
                    role_permissions_ind = soci::i_ok, invitation_created_ind = soci::i_ok,
                    invitation_expires_ind = soci::i_ok;
    int has_password = 0, mfa = 0, break_glass = 0;
    long long logins7 = 0, logins30 = 0, logins365 = 0;

    void bind(bound_statement& st) {
        user.bind(st);
        st.out(role, role_ind).out(permissions, permissions_ind).out(custom_roles, custom_roles_ind);
        st.out(role_permissions, role_permissions_ind).out(scoped_json).out(has_password).out(mfa).out(break_glass);
        st.out(invitation_created, invitation_created_ind).out(invitation_expires, invitation_expires_ind);
        st.out(logins7).out(logins30).out(logins365);
    }

    schema::account to_account(core::time_point now) const {
        schema::account a;
        a.profile = user.to_user();
        a.role = role_ind == soci::i_ok ? schema::parse_system_role(role).value_or(schema::system_role::member)
                                        : schema::system_role::member;
        if (permissions_ind == soci::i_ok) a.permissions = split_list(permissions);
        if (custom_roles_ind == soci::i_ok) a.custom_roles = split_list(custom_roles);
        a.effective_permissions = a.permissions;
        if (role_permissions_ind == soci::i_ok)
            for (auto& p : split_list(role_permissions)) a.effective_permissions.push_back(std::move(p));
        std::sort(a.effective_permissions.begin(), a.effective_permissions.end());
        a.effective_permissions.erase(std::unique(a.effective_permissions.begin(), a.effective_permissions.end()),
                                      a.effective_permissions.end());
        const auto scoped = boost::json::parse(scoped_json.empty() ? std::string("[]") : scoped_json);
        for (const auto& item : scoped.as_array()) {
            schema::scoped_role r;
            r.scope_id = item.at("i").as_string();
            r.kind = schema::parse_scope_kind(item.at("k").as_string()).value_or(schema::scope_kind::workspace);
            r.scope_name = item.at("n").as_string();
            r.role = schema::parse_scoped_role_name(item.at("r").as_string()).value_or(schema::scoped_role_name::viewer);
            a.scoped_roles.push_back(std::move(r));
        }
        std::sort(a.scoped_roles.begin(), a.scoped_roles.end(), [](const auto& x, const auto& y) {
            return std::tie(x.kind, x.scope_name) < std::tie(y.kind, y.scope_name);
        });
        a.has_password = has_password != 0;
        a.mfa_enrolled = mfa != 0;
        a.break_glass = break_glass != 0;
        a.invitation_sent = parse_optional_ts(invitation_created, invitation_created_ind);
        if (a.profile.status == schema::user_status::pending) {
            const auto expires = parse_optional_ts(invitation_expires, invitation_expires_ind);
            a.invitation = expires && *expires > now ? schema::invitation_state::pending
                                                     : schema::invitation_state::expired;
        }
        a.logins = {logins7, logins30, logins365};
        return a;
    }
};

class soci_accounts final : public accounts {
public:
    explicit soci_accounts(sql_runner& db)
        : db_(db), d_(db.sql_dialect()), clock_(db.clock()), account_select_(account_select_list()) {}

    // -- accounts ----------------------------------------------------------------------------------

    result<std::vector<schema::account>> create_accounts(std::vector<new_account> drafts,
                                                         const actor& by) override {
        const auto now = clock_.now();
        return db_.write<std::vector<schema::account>>(
            [&](soci::session& sql) -> result<std::vector<schema::account>> {
                std::vector<schema::account> created;
                if (drafts.empty()) return created;
                const std::string org = drafts.front().user.organization_id;
                db_.lock_organization(sql, org);
                for (auto& draft : drafts) {
                    auto& u = draft.user;
                    u.id = core::new_uuid();
                    u.organization_id = org;
                    u.created = u.updated = now;
                    u.version = 1;
                    u.status = draft.invitation ? schema::user_status::pending : schema::user_status::active;
                    u.active = !draft.invitation.has_value();
                    // The first user of an organisation is its owner: nobody else could grant super_admin.
                    if (sql_runner::count_owners(sql, org, "") == 0) draft.role = schema::system_role::super_admin;
                    sql_runner::insert_user(sql, u, draft.password_hash ? &*draft.password_hash : nullptr,
                                            sql_runner::origin::local_user_management);
                    db_.assign_system_role(sql, org, u.id, draft.role);
                    const std::string summary = boost::json::serialize(
                        boost::json::object{{"user_name", u.user_name},
                                            {"status", schema::to_string(u.status)},
                                            {"role", schema::to_string(draft.role)}});
                    db_.record(sql, org, by, "user.create", "user", u.id, u.user_name, summary, "user.created",
                               schema::summarize_user(u));
                    if (draft.invitation) {
                        auto& link = *draft.invitation;
                        link.id = core::new_uuid();
                        link.created = now;
                        link.user_id = u.id;
                        link.organization_id = org;
                        insert_link(sql, link);
                    }
                    auto account = load_account(sql, org, "id", u.id);
                    if (!account) return account.error();
                    created.push_back(std::move(*account));
                }
                return created;
            });
    }

    result<session_view> load_session_view(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) -> result<session_view> {
            std::string org{organization_id}, k{user_id}, slug, name, mode, settings, created, updated;
            long long version = 1;
            int mfa_by_permission = 0;
            account_row row;
            window w(clock_.now());
            bound_statement st(sql);
            row.bind(st);
            st.out(slug).out(name).out(mode).out(settings).out(created).out(updated).out(version).out(mfa_by_permission);
            st.in(org, "org").in(k, "k");
            w.bind(st);
            if (!st.run("SELECT " + account_select_ +
                        ", o.slug, o.name, o.sso_mode, o.settings, o.created_at, o.updated_at, o.version, "
                        "CASE WHEN EXISTS (SELECT 1 FROM permissions p WHERE p.organization_id = u.organization_id "
                        "AND p.requires_mfa = 1 AND (p.name IN (SELECT up.permission FROM user_permissions up WHERE "
                        "up.user_id = u.id) OR p.name IN (SELECT rp.permission FROM role_assignments ra JOIN "
                        "role_permissions rp ON rp.role_id = ra.role_id WHERE ra.user_id = u.id))) THEN 1 ELSE 0 END "
                        "FROM users u JOIN organizations o ON o.id = u.organization_id "
                        "WHERE u.organization_id = :org AND u.id = :k"))
                return errc::not_found;
            session_view v;
            v.account = row.to_account(clock_.now());
            v.organization = {org, slug, name, schema::parse_sso_mode(mode).value_or(schema::sso_mode::off),
                              parse_ts(created), parse_ts(updated), version};
            std::string error;
            auto parsed = schema::parse_organization_settings(settings, error);
            if (!parsed) throw std::runtime_error("stored organization settings are invalid: " + error);
            v.settings = *parsed;
            v.mfa_required = v.settings.mfa_required || mfa_by_permission != 0;
            return v;
        });
    }

    result<schema::account> get_account(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) { return load_account(sql, organization_id, "id", user_id); });
    }

    result<login_record> find_login(std::string_view organization_id, std::string_view login) override {
        return db_.read_only([&](soci::session& sql) -> result<login_record> {
            const std::string folded = schema::case_fold(login);
            std::string org{organization_id}, id, hash;
            soci::indicator hash_ind = soci::i_ok;
            sql << "SELECT id, password_hash FROM users WHERE organization_id = :org AND user_name_folded = :l",
                use(org, "org"), use(folded, "l"), into(id), into(hash, hash_ind);
            if (!sql.got_data()) {
                // An email address logs in only when it names exactly one user: never guess between two.
                std::string f = folded;
                soci::rowset<std::string> rows = (sql.prepare << "SELECT DISTINCT user_id FROM user_emails WHERE "
                                                                 "organization_id = :org AND value_folded = :l",
                                                  use(org, "org"), use(f, "l"));
                std::vector<std::string> found(rows.begin(), rows.end());
                if (found.size() != 1) return errc::not_found;
                id = found.front();
                sql << "SELECT password_hash FROM users WHERE id = :id", use(id, "id"), into(hash, hash_ind);
            }
            auto account = load_account(sql, organization_id, "id", id);
            if (!account) return account.error();
            return login_record{std::move(*account), hash_ind == soci::i_ok ? hash : std::string()};
        });
    }

    result<account_page> find_accounts(const account_query& q) override {
        std::string where = "u.organization_id = :org";
        std::vector<std::string> params;
        const auto bind = [&](std::string value) {
            params.push_back(std::move(value));
            return ":p" + std::to_string(params.size() - 1);
        };
        if (!q.text.empty()) {
            // A prefix match (what Okta's and Entra's admin searches do) on indexed columns of the user row,
            // so the planner can combine index scans for a rare prefix or walk the page order for a common one:
            // "jo" finds John, Jo Smith, jo@acme.com -- not "Major".
            const std::string like = "LIKE " + bind(escape_like(schema::case_fold(q.text)) + "%") + " ESCAPE '\\'";
            where += " AND (u.user_name_folded " + like + " OR u.email_folded " + like + " OR lower(u.display_name) " +
                     like + " OR lower(u.given_name) " + like + " OR lower(u.family_name) " + like + ")";
        }
        if (q.role)
            // A column of the user row with its own index (kept equal to the system role assignment by
            // assign_system_role): a rare role is then an index range, not a probe per user.
            where += " AND u.system_role = " + bind(std::string(schema::to_string(*q.role)));
        // The rows the page is chosen from, and the columns that order them by creation: a filter on
        // statuses other than active walks inactive_users (migration 10) in its index order, joined to the
        // user rows; a filter that includes active keeps the users that have no other status.
        std::string from = "users u", created_at = "u.created_at", id = "u.id";
        if (!q.statuses.empty()) {
            const bool with_active =
                std::find(q.statuses.begin(), q.statuses.end(), schema::user_status::active) != q.statuses.end();
            std::string others;
            for (const auto status : q.statuses)
                if (status != schema::user_status::active)
                    others += (others.empty() ? "" : ", ") + bind(std::string(schema::to_string(status)));
            if (!with_active) {
                from = "inactive_users x JOIN users u ON u.id = x.user_id";
                where += " AND x.organization_id = :org AND x.status IN (" + others + ")";
                created_at = "x.created_at";
                id = "x.user_id";
            } else {
                where += " AND NOT EXISTS (SELECT 1 FROM inactive_users x WHERE x.user_id = u.id" +
                         (others.empty() ? std::string() : " AND x.status NOT IN (" + others + ")") + ")";
            }
        }
        if (q.created_from) where += " AND " + created_at + " >= " + bind(ts(*q.created_from));
        if (q.created_to) where += " AND " + created_at + " < " + bind(ts(*q.created_to));
        const char* dir = q.descending ? " DESC" : "";
        // `order` picks the page (from `from`); `page_order` sorts the page's rows, read from users again.
        std::string order, page_order;
        switch (q.sort) {
            case account_query::sort_key::created: order = created_at + dir; break;
            case account_query::sort_key::user_name: order = "u.user_name_folded" + std::string(dir); break;
            case account_query::sort_key::display_name: order = "lower(u.display_name)" + std::string(dir); break;
            // Never-logged-in users last in either direction, as admins expect.
            case account_query::sort_key::last_login:
                order = "CASE WHEN u.last_login_at IS NULL THEN 1 ELSE 0 END, u.last_login_at" + std::string(dir);
                break;
        }
        page_order = q.sort == account_query::sort_key::created ? "u.created_at" + std::string(dir) : order;
        order += ", " + id + dir;
        page_order += ", u.id" + std::string(dir);

        return db_.read_snapshot([&](soci::session& sql) -> result<account_page> {
            account_page page;
            std::string org = q.organization_id;
            std::vector<std::string> values = params;
            const auto bind_params = [&](bound_statement& st) {
                st.in(org, "org");
                for (std::size_t i = 0; i < values.size(); ++i) st.in(values[i], ("p" + std::to_string(i)).c_str());
            };
            // Counting every match of a million-user organisation would cost more than the page: the count
            // stops one row past this page (so "is there a next page" is exact) or at the cap, whichever is
            // further, and the page says when its total is a lower bound.
            const long long cap = std::max<long long>(account_count_cap, q.offset + q.limit) + 1;
            long long total = 0;
            {
                bound_statement st(sql);
                st.out(total);
                bind_params(st);
                st.in(cap, "cap");
                st.run("SELECT COUNT(*) FROM (SELECT 1 FROM " + from + " WHERE " + where + " LIMIT :cap) matches");
            }
            page.total_exact = total < cap;
            page.total = std::min<long long>(total, cap - 1);
            if (q.limit <= 0) return page;
            long long lim = q.limit, off = std::max<std::int64_t>(0, q.offset);
            account_row row;
            window w(clock_.now());
            bound_statement st(sql);
            row.bind(st);
            bind_params(st);
            w.bind(st);
            st.in(lim, "lim").in(off, "off");
            // The page's ids first, then the account columns for those rows only: the per-row subqueries
            // (role, permissions, logins...) must not run for the rows an OFFSET skips.
            if (st.run("SELECT " + account_select_ + " FROM (SELECT u.id AS page_id FROM " + from + " WHERE " + where +
                       " ORDER BY " + order + " LIMIT :lim OFFSET :off) page JOIN users u ON u.id = page.page_id "
                       "ORDER BY " + page_order)) {
                do page.accounts.push_back(row.to_account(clock_.now()));
                while (st.next());
            }
            return page;
        });
    }

    // -- roles and status --------------------------------------------------------------------------

    result<schema::account> set_role(std::string_view organization_id, std::string_view user_id,
                                     schema::system_role role, const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            db_.lock_organization(sql, organization_id);
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            if (before->role == role) return before;
            if (before->role == schema::system_role::super_admin && sql_runner::count_owners(sql, organization_id, user_id) == 0)
                return errc::last_owner;
            db_.assign_system_role(sql, std::string(organization_id), std::string(user_id), role);
            db_.record(sql, std::string(organization_id), by, "user.role_change", "user", before->profile.id,
                       before->profile.user_name, from_to("role", schema::to_string(before->role), schema::to_string(role)),
                       "user.updated", schema::summarize_user(before->profile));
            return load_account(sql, organization_id, "id", user_id);
        });
    }

    result<void> transfer_ownership(std::string_view organization_id, std::string_view from, std::string_view to,
                                    const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            db_.lock_organization(sql, organization_id);
            auto owner = load_account(sql, organization_id, "id", from);
            auto heir = load_account(sql, organization_id, "id", to);
            if (!owner || !heir) return errc::not_found;
            if (owner->role != schema::system_role::super_admin || heir->role != schema::system_role::admin ||
                heir->profile.status != schema::user_status::active)
                return errc::not_supported;
            const std::string org{organization_id};
            db_.assign_system_role(sql, org, heir->profile.id, schema::system_role::super_admin);
            db_.assign_system_role(sql, org, owner->profile.id, schema::system_role::admin);
            const std::string details = boost::json::serialize(
                boost::json::object{{"from", owner->profile.user_name}, {"to", heir->profile.user_name}});
            db_.record(sql, org, by, "organization.ownership_transfer", "user", heir->profile.id,
                       heir->profile.user_name, details, "user.updated", schema::summarize_user(heir->profile));
            return {};
        });
    }

    result<schema::account> set_status(std::string_view organization_id, std::string_view user_id,
                                       schema::user_status status, const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            db_.lock_organization(sql, organization_id);
            auto before = db_.load_user(sql, organization_id, "id", user_id, db_.postgres());
            if (!before) return before.error();
            if (status == schema::user_status::disabled && sql_runner::is_owner(sql, user_id) &&
                sql_runner::count_owners(sql, organization_id, user_id) == 0)
                return errc::last_owner;
            schema::user after = *before;
            after.status = status;
            after.active = status == schema::user_status::active;
            // Ends the user's sessions when they lose access (sql_runner::store_user_update).
            auto updated = db_.store_user_update(sql, *before, after, by);
            if (!updated) return updated.error();
            return load_account(sql, organization_id, "id", user_id);
        });
    }

    result<void> delete_account(std::string_view organization_id, std::string_view user_id,
                                const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            auto before = remove_user_keeping_an_owner(sql, organization_id, user_id);
            if (!before) return before.error();
            const std::string summary = schema::summarize_user(*before);
            db_.record(sql, std::string(organization_id), by, "user.delete", "user", std::string(user_id),
                       before->user_name, summary, "user.deleted", summary);
            return {};
        });
    }

    result<void> erase_account(std::string_view organization_id, std::string_view user_id,
                               const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            auto before = remove_user_keeping_an_owner(sql, organization_id, user_id);
            if (!before) return before.error();
            std::string org{organization_id}, id{user_id}, erased = "erased user";
            sql << "DELETE FROM login_events WHERE organization_id = :org AND user_id = :id", use(org, "org"),
                use(id, "id");
            sql << "UPDATE audit_records SET target_display = :e, details = '{\"erased\":true}' WHERE "
                   "organization_id = :org AND target_id = :id",
                use(erased, "e"), use(org, "org"), use(id, "id");
            sql << "UPDATE audit_records SET actor_display = :e WHERE organization_id = :org AND actor_id = :id",
                use(erased, "e"), use(org, "org"), use(id, "id");
            sql << "UPDATE change_events SET payload = '{\"erased\":true}' WHERE organization_id = :org AND "
                   "resource_id = :id",
                use(org, "org"), use(id, "id");
            // The erasure itself is recorded, without naming the person.
            db_.record(sql, org, by, "user.erase", "user", id, erased, "{\"erased\":true}", "user.deleted",
                       boost::json::serialize(boost::json::object{{"id", id}, {"erased", true}}));
            return {};
        });
    }

    result<schema::account> set_break_glass(std::string_view organization_id, std::string_view user_id, bool enabled,
                                            const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            std::string id{user_id};
            int flag = enabled ? 1 : 0;
            sql << "UPDATE users SET break_glass = :f WHERE id = :id", use(flag, "f"), use(id, "id");
            db_.record(sql, std::string(organization_id), by, enabled ? "user.break_glass_grant" : "user.break_glass_revoke",
                       "user", id, before->profile.user_name,
                       boost::json::serialize(boost::json::object{{"break_glass", enabled}}), "user.updated",
                       schema::summarize_user(before->profile));
            return load_account(sql, organization_id, "id", user_id);
        });
    }

    result<schema::organization> set_sso_mode(std::string_view organization_id, schema::sso_mode mode,
                                              const actor& by) override {
        return db_.write<schema::organization>([&](soci::session& sql) -> result<schema::organization> {
            std::string org{organization_id}, before, after{schema::to_string(mode)}, now = ts(clock_.now()), slug;
            sql << "SELECT sso_mode, slug FROM organizations WHERE id = :org", use(org, "org"), into(before), into(slug);
            if (!sql.got_data()) return errc::not_found;
            if (before != after) {
                sql << "UPDATE organizations SET sso_mode = :m, updated_at = :now, version = version + 1 WHERE id = :org",
                    use(after, "m"), use(now, "now"), use(org, "org");
                const std::string details = from_to("sso", before, after);
                db_.record(sql, org, by, "organization.sso_change", "organization", org, slug, details,
                           "organization.updated", details);
            }
            auto view_org = load_organization(sql, org);
            return view_org;
        });
    }

    // -- permissions -------------------------------------------------------------------------------

    result<void> define_permission(std::string_view organization_id, const schema::permission_definition& p,
                                   const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, name = p.name, description = p.description;
            int mfa = p.requires_mfa ? 1 : 0;
            bound_statement st(sql);
            st.in(org, "org").in(name, "name").in(description, "description").in(mfa, "mfa");
            st.run("INSERT INTO permissions (organization_id, name, description, requires_mfa) VALUES (:org, :name, "
                   ":description, :mfa) ON CONFLICT (organization_id, name) DO UPDATE SET description = "
                   "excluded.description, requires_mfa = excluded.requires_mfa");
            const std::string details = boost::json::serialize(
                boost::json::object{{"name", p.name}, {"description", p.description}, {"requires_mfa", p.requires_mfa}});
            db_.record(sql, org, by, "permission.define", "permission", p.name, p.name, details, "permission.defined",
                       details);
            return {};
        });
    }

    std::vector<schema::permission_definition> list_permissions(std::string_view organization_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<schema::permission_definition> out;
            std::string org{organization_id};
            schema::permission_definition p;
            int mfa = 0;
            bound_statement st(sql);
            st.out(p.name).out(p.description).out(mfa).in(org, "org");
            if (st.run("SELECT name, description, requires_mfa FROM permissions WHERE organization_id = :org "
                       "ORDER BY name")) {
                do {
                    p.requires_mfa = mfa != 0;
                    out.push_back(p);
                } while (st.next());
            }
            return out;
        });
    }

    result<schema::account> set_permissions(std::string_view organization_id, std::string_view user_id,
                                            const std::vector<std::string>& permissions, const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            std::string org{organization_id}, id{user_id}, now = ts(clock_.now());
            sql << "DELETE FROM user_permissions WHERE user_id = :id", use(id, "id");
            for (const auto& name : permissions) {
                std::string n = name;
                long long defined = 0;
                sql << "SELECT COUNT(*) FROM permissions WHERE organization_id = :org AND name = :n", use(org, "org"),
                    use(n, "n"), into(defined);
                if (defined == 0) return errc::not_found;
                sql << "INSERT INTO user_permissions (user_id, organization_id, permission, created_at) VALUES "
                       "(:id, :org, :n, :now) ON CONFLICT (user_id, permission) DO NOTHING",
                    use(id, "id"), use(org, "org"), use(n, "n"), use(now, "now");
            }
            auto after = load_account(sql, organization_id, "id", user_id);
            const std::string details = list_from_to("permissions", before->permissions, after->permissions);
            db_.record(sql, org, by, "user.permissions_change", "user", id, before->profile.user_name, details,
                       "user.updated", schema::summarize_user(before->profile));
            return after;
        });
    }

    // -- workspaces, projects, scoped and custom roles ---------------------------------------------

    result<schema::resource_scope> create_scope(schema::resource_scope scope, const actor& by) override {
        scope.id = core::new_uuid();
        scope.created = clock_.now();
        return db_.write<schema::resource_scope>([&](soci::session& sql) -> result<schema::resource_scope> {
            std::string id = scope.id, org = scope.organization_id, kind{schema::to_string(scope.kind)},
                        name = scope.name, now = ts(scope.created);
            sql << "INSERT INTO resource_scopes (id, organization_id, kind, name, created_at) VALUES (:id, :org, "
                   ":kind, :name, :now)",
                use(id, "id"), use(org, "org"), use(kind, "kind"), use(name, "name"), use(now, "now");
            const std::string details = boost::json::serialize(boost::json::object{{"kind", kind}, {"name", name}});
            db_.record(sql, org, by, kind + ".create", kind, id, name, details, kind + ".created", details);
            return scope;
        });
    }

    std::vector<schema::resource_scope> list_scopes(std::string_view organization_id,
                                                    std::optional<schema::scope_kind> kind) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<schema::resource_scope> out;
            std::string org{organization_id}, k = kind ? std::string(schema::to_string(*kind)) : std::string(),
                        row_kind, created;
            schema::resource_scope s;
            bound_statement st(sql);
            st.out(s.id).out(row_kind).out(s.name).out(created).in(org, "org").in(k, "k");
            if (st.run("SELECT id, kind, name, created_at FROM resource_scopes WHERE organization_id = :org AND "
                       "(:k = '' OR kind = :k) ORDER BY kind, name")) {
                do {
                    s.organization_id = org;
                    s.kind = schema::parse_scope_kind(row_kind).value_or(schema::scope_kind::workspace);
                    s.created = parse_ts(created);
                    out.push_back(s);
                } while (st.next());
            }
            return out;
        });
    }

    result<void> delete_scope(std::string_view organization_id, std::string_view scope_id, const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, id{scope_id}, kind, name;
            sql << "SELECT kind, name FROM resource_scopes WHERE organization_id = :org AND id = :id", use(org, "org"),
                use(id, "id"), into(kind), into(name);
            if (!sql.got_data()) return errc::not_found;
            // Role assignments name their scope by id without a foreign key (system roles use ''): removed here.
            sql << "DELETE FROM role_assignments WHERE organization_id = :org AND scope_id = :id", use(org, "org"),
                use(id, "id");
            sql << "DELETE FROM resource_scopes WHERE id = :id", use(id, "id");
            const std::string details = boost::json::serialize(boost::json::object{{"kind", kind}, {"name", name}});
            db_.record(sql, org, by, kind + ".delete", kind, id, name, details, kind + ".deleted", details);
            return {};
        });
    }

    result<schema::account> set_scoped_role(std::string_view organization_id, std::string_view user_id,
                                            std::string_view scope_id, schema::scoped_role_name role,
                                            const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            std::string org{organization_id}, uid{user_id}, sid{scope_id}, kind, name,
                rid = "scoped:" + std::string(schema::to_string(role)), now = ts(clock_.now());
            sql << "SELECT kind, name FROM resource_scopes WHERE organization_id = :org AND id = :id", use(org, "org"),
                use(sid, "id"), into(kind), into(name);
            if (!sql.got_data()) return errc::not_found;
            sql << "DELETE FROM role_assignments WHERE user_id = :u AND scope_id = :s", use(uid, "u"), use(sid, "s");
            sql << "INSERT INTO role_assignments (organization_id, user_id, role_id, scope_id, is_system, source, "
                   "created_at) VALUES (:org, :u, :r, :s, 0, 'local', :now)",
                use(org, "org"), use(uid, "u"), use(rid, "r"), use(sid, "s"), use(now, "now");
            const std::string details = boost::json::serialize(boost::json::object{
                {"scoped_role", boost::json::object{{"scope", kind + ":" + name}, {"role", schema::to_string(role)}}}});
            db_.record(sql, org, by, "user.scoped_role_set", "user", uid, before->profile.user_name, details,
                       "user.updated", schema::summarize_user(before->profile));
            return load_account(sql, organization_id, "id", user_id);
        });
    }

    result<schema::account> remove_scoped_role(std::string_view organization_id, std::string_view user_id,
                                               std::string_view scope_id, const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            std::string uid{user_id}, sid{scope_id};
            bound_statement st(sql);
            st.in(uid, "u").in(sid, "s");
            st.run("DELETE FROM role_assignments WHERE user_id = :u AND scope_id = :s AND scope_id <> ''");
            if (st.affected_rows() == 0) return errc::not_found;
            db_.record(sql, std::string(organization_id), by, "user.scoped_role_remove", "user", uid,
                       before->profile.user_name, boost::json::serialize(boost::json::object{{"scope_id", sid}}),
                       "user.updated", schema::summarize_user(before->profile));
            return load_account(sql, organization_id, "id", user_id);
        });
    }

    result<schema::custom_role> create_custom_role(std::string_view organization_id, schema::custom_role role,
                                                   const actor& by) override {
        role.id = core::new_uuid();
        std::sort(role.permissions.begin(), role.permissions.end());
        role.permissions.erase(std::unique(role.permissions.begin(), role.permissions.end()), role.permissions.end());
        return db_.write<schema::custom_role>([&](soci::session& sql) -> result<schema::custom_role> {
            std::string id = role.id, org{organization_id}, name = role.name, description = role.description,
                        now = ts(clock_.now());
            sql << "INSERT INTO roles (id, organization_id, name, kind, description, created_at) VALUES (:id, :org, "
                   ":name, 'custom', :d, :now)",
                use(id, "id"), use(org, "org"), use(name, "name"), use(description, "d"), use(now, "now");
            boost::json::array perms;
            for (const auto& p : role.permissions) {
                std::string perm = p;
                long long defined = 0;
                sql << "SELECT COUNT(*) FROM permissions WHERE organization_id = :org AND name = :p", use(org, "org"),
                    use(perm, "p"), into(defined);
                if (defined == 0) return errc::not_found;
                sql << "INSERT INTO role_permissions (role_id, permission) VALUES (:id, :p)", use(id, "id"),
                    use(perm, "p");
                perms.emplace_back(p);
            }
            const std::string details = boost::json::serialize(
                boost::json::object{{"name", name}, {"description", description}, {"permissions", perms}});
            db_.record(sql, org, by, "role.create", "role", id, name, details, "role.created", details);
            return role;
        });
    }

    std::vector<schema::custom_role> list_custom_roles(std::string_view organization_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<schema::custom_role> out;
            std::string org{organization_id}, perms;
            soci::indicator perms_ind = soci::i_ok;
            schema::custom_role r;
            bound_statement st(sql);
            st.out(r.id).out(r.name).out(r.description).out(perms, perms_ind).in(org, "org");
            if (st.run("SELECT r.id, r.name, r.description, (SELECT " + list_of("rp.permission") +
                       " FROM role_permissions rp WHERE rp.role_id = r.id) FROM roles r WHERE r.organization_id = "
                       ":org AND r.kind = 'custom' ORDER BY r.name")) {
                do {
                    r.permissions = perms_ind == soci::i_ok ? split_list(perms) : std::vector<std::string>{};
                    out.push_back(r);
                } while (st.next());
            }
            return out;
        });
    }

    result<void> delete_custom_role(std::string_view organization_id, std::string_view name,
                                    const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, n{name}, id;
            sql << "SELECT id FROM roles WHERE organization_id = :org AND name = :n AND kind = 'custom'",
                use(org, "org"), use(n, "n"), into(id);
            if (!sql.got_data()) return errc::not_found;
            sql << "DELETE FROM roles WHERE id = :id", use(id, "id");  // cascades to assignments and permissions
            const std::string details = boost::json::serialize(boost::json::object{{"name", n}});
            db_.record(sql, org, by, "role.delete", "role", id, n, details, "role.deleted", details);
            return {};
        });
    }

    result<schema::account> set_custom_roles(std::string_view organization_id, std::string_view user_id,
                                             const std::vector<std::string>& role_names, const actor& by) override {
        return db_.write<schema::account>([&](soci::session& sql) -> result<schema::account> {
            auto before = load_account(sql, organization_id, "id", user_id);
            if (!before) return before.error();
            std::string org{organization_id}, uid{user_id}, now = ts(clock_.now());
            sql << "DELETE FROM role_assignments WHERE user_id = :u AND is_system = 0 AND scope_id = '' AND role_id IN "
                   "(SELECT id FROM roles WHERE kind = 'custom')",
                use(uid, "u");
            for (const auto& name : role_names) {
                std::string n = name, rid;
                sql << "SELECT id FROM roles WHERE organization_id = :org AND name = :n AND kind = 'custom'",
                    use(org, "org"), use(n, "n"), into(rid);
                if (!sql.got_data()) return errc::not_found;
                sql << "INSERT INTO role_assignments (organization_id, user_id, role_id, scope_id, is_system, source, "
                       "created_at) VALUES (:org, :u, :r, '', 0, 'local', :now) ON CONFLICT (user_id, role_id, "
                       "scope_id) DO NOTHING",
                    use(org, "org"), use(uid, "u"), use(rid, "r"), use(now, "now");
            }
            auto after = load_account(sql, organization_id, "id", user_id);
            db_.record(sql, org, by, "user.custom_roles_change", "user", uid, before->profile.user_name,
                       list_from_to("custom_roles", before->custom_roles, after->custom_roles), "user.updated",
                       schema::summarize_user(before->profile));
            return after;
        });
    }

    // -- credentials and links ---------------------------------------------------------------------

    result<void> set_password(std::string_view organization_id, std::string_view user_id,
                              const std::string& password_hash, bool end_sessions, std::string_view keep_session_id,
                              const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            auto user = db_.load_user(sql, organization_id, "id", user_id);
            if (!user) return user.error();
            std::string id{user_id}, hash = password_hash, keep{keep_session_id};
            sql << "UPDATE users SET password_hash = :h WHERE id = :id", use(hash, "h"), use(id, "id");
            if (end_sessions)
                sql << "DELETE FROM sessions WHERE user_id = :id AND id <> :keep", use(id, "id"), use(keep, "keep");
            // The audit record says that the password changed, never anything about it.
            db_.record(sql, std::string(organization_id), by, "user.password_change", "user", id, user->user_name,
                       boost::json::serialize(boost::json::object{{"sessions_ended", end_sessions}}),
                       "user.password_changed", schema::summarize_user(*user));
            return {};
        });
    }

    result<schema::one_time_link> issue_link(schema::one_time_link link, const actor& by) override {
        link.id = core::new_uuid();
        link.created = clock_.now();
        link.used.reset();
        return db_.write<schema::one_time_link>([&](soci::session& sql) -> result<schema::one_time_link> {
            auto user = db_.load_user(sql, link.organization_id, "id", link.user_id);
            if (!user) return user.error();
            insert_link(sql, link);
            if (link.purpose != schema::link_purpose::mfa_challenge) {
                const std::string details = boost::json::serialize(
                    boost::json::object{{"purpose", schema::to_string(link.purpose)},
                                        {"expires", core::format_timestamp(link.expires)}});
                db_.record(sql, link.organization_id, by, "user.link_issue", "user", link.user_id, user->user_name,
                           details, "user.link_issued", details);
            }
            return link;
        });
    }

    std::optional<schema::one_time_link> find_link(std::string_view secret_hash) override {
        return db_.read_only([&](soci::session& sql) { return link_by_hash(sql, secret_hash); });
    }

    std::optional<schema::one_time_link> latest_link(std::string_view organization_id, std::string_view user_id,
                                                     schema::link_purpose purpose) override {
        // Within one millisecond, the unused link is the newer one: issuing retires the ones before.
        return db_.read_only([&](soci::session& sql) -> std::optional<schema::one_time_link> {
            std::string org{organization_id}, id{user_id}, p{schema::to_string(purpose)};
            link_row row;
            bound_statement st(sql);
            row.bind(st);
            st.in(org, "org").in(id, "id").in(p, "p");
            if (!st.run(std::string("SELECT ") + link_columns +
                        " FROM one_time_links WHERE organization_id = :org AND user_id = :id AND purpose = :p "
                        "ORDER BY created_at DESC, CASE WHEN used_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1"))
                return std::nullopt;
            return row.to_link();
        });
    }

    result<schema::one_time_link> redeem_link(std::string_view secret_hash, schema::link_purpose purpose,
                                              std::optional<std::string> password_hash, const actor& by) override {
        return db_.write<schema::one_time_link>([&](soci::session& sql) -> result<schema::one_time_link> {
            auto found = link_by_hash(sql, secret_hash);
            if (!found) return errc::not_found;
            auto link = std::move(*found);
            if (link.purpose != purpose) return errc::not_found;
            if (link.used) return errc::already_used;
            const auto now = clock_.now();
            if (link.expires <= now) return errc::expired;
            std::string id = link.id, at = ts(now), user_id = link.user_id;
            bound_statement mark(sql);
            mark.in(at, "now").in(id, "id");
            mark.run("UPDATE one_time_links SET used_at = :now WHERE id = :id AND used_at IS NULL");
            if (mark.affected_rows() != 1) return errc::already_used;  // a concurrent redeem won
            link.used = now;
            if (purpose == schema::link_purpose::mfa_challenge) return link;

            auto before = db_.load_user(sql, link.organization_id, "id", user_id, db_.postgres());
            if (!before) return before.error();
            if (password_hash) {
                std::string h = *password_hash;
                sql << "UPDATE users SET password_hash = :h WHERE id = :id", use(h, "h"), use(user_id, "id");
                // A reset takes over the account: whoever held a session with the old password loses it.
                sql << "DELETE FROM sessions WHERE user_id = :id", use(user_id, "id");
            }
            if (purpose == schema::link_purpose::email_change) {
                // The new address becomes the primary email; the old one is dropped (the username, which may
                // look like an email, never changes).
                schema::user after = *before;
                std::erase_if(after.emails, [](const schema::multi_value& e) { return e.primary; });
                after.emails.insert(after.emails.begin(), schema::multi_value{link.payload, "work", "", true});
                auto updated = db_.store_user_update(sql, *before, after, by);
                if (!updated) return updated.error();
            }
            if (purpose == schema::link_purpose::invitation && before->status == schema::user_status::pending) {
                schema::user after = *before;
                after.status = schema::user_status::active;
                after.active = true;
                auto updated = db_.store_user_update(sql, *before, after, by);
                if (!updated) return updated.error();
            }
            const char* action = purpose == schema::link_purpose::invitation       ? "user.invitation_accept"
                                 : purpose == schema::link_purpose::email_change ? "user.email_change_confirm"
                                                                                 : "user.password_reset";
            db_.record(sql, link.organization_id, by, action, "user", user_id, before->user_name,
                       boost::json::serialize(boost::json::object{{"link_id", link.id}}), "user.updated",
                       schema::summarize_user(*before));
            return link;
        });
    }

    // -- sessions ----------------------------------------------------------------------------------

    result<schema::session> create_session(schema::session s) override {
        s.id = core::new_uuid();
        s.created = clock_.now();
        return db_.write<schema::session>([&](soci::session& sql) -> result<schema::session> {
            std::string id = s.id, org = s.organization_id, user = s.user_id, hash = s.secret_hash,
                        conn = s.connection_id, idp = s.idp_session, created = ts(s.created), expires = ts(s.expires),
                        addr = s.client_address, agent = s.user_agent, subject = s.idp_subject,
                        subject_format = s.idp_subject_format;
            bound_statement st(sql);
            st.in(id, "id").in(org, "org").in(user, "u").in(hash, "h").in(conn, "c").in(idp, "idp").in(created, "now");
            st.in(expires, "exp").in(addr, "addr").in(agent, "agent").in(subject, "subj").in(subject_format, "subjf");
            st.run("INSERT INTO sessions (id, organization_id, user_id, secret_hash, connection_id, idp_session, "
                   "idp_subject, idp_subject_format, created_at, expires_at, last_seen_at, client_address, user_agent) "
                   "VALUES (:id, :org, :u, :h, :c, :idp, :subj, :subjf, :now, :exp, :now, :addr, :agent)");
            return s;
        });
    }

    std::optional<schema::session> find_session(std::string_view secret_hash) override {
        return db_.read_only([&](soci::session& sql) -> std::optional<schema::session> {
            std::string hash{secret_hash}, now = ts(clock_.now()), created, expires;
            schema::session s;
            bound_statement st(sql);
            st.out(s.id).out(s.organization_id).out(s.user_id).out(s.connection_id).out(created).out(expires);
            st.out(s.client_address).out(s.user_agent).out(s.idp_session).out(s.idp_subject).out(s.idp_subject_format);
            st.in(hash, "h").in(now, "now");
            // A disabled or not-yet-activated user's sessions stop working at once, even before they
            // are deleted.
            if (!st.run("SELECT s.id, s.organization_id, s.user_id, s.connection_id, s.created_at, s.expires_at, "
                        "s.client_address, s.user_agent, s.idp_session, s.idp_subject, s.idp_subject_format FROM sessions s "
                        "JOIN users u ON u.id = s.user_id "
                        "WHERE s.secret_hash = :h AND s.expires_at > :now AND u.status = 'active'"))
                return std::nullopt;
            s.secret_hash = hash;
            s.created = parse_ts(created);
            s.expires = parse_ts(expires);
            return s;
        });
    }

    result<void> end_session(std::string_view session_id) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string id{session_id};
            bound_statement st(sql);
            st.in(id, "id");
            st.run("DELETE FROM sessions WHERE id = :id");
            if (st.affected_rows() == 0) return errc::not_found;
            return {};
        });
    }

    result<std::int64_t> end_user_sessions(std::string_view organization_id, std::string_view user_id,
                                           const actor& by) override {
        return db_.write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            auto user = db_.load_user(sql, organization_id, "id", user_id);
            if (!user) return user.error();
            std::string id{user_id};
            bound_statement st(sql);
            st.in(id, "id");
            st.run("DELETE FROM sessions WHERE user_id = :id");
            const auto ended = static_cast<std::int64_t>(st.affected_rows());
            db_.record(sql, std::string(organization_id), by, "user.sessions_end", "user", id, user->user_name,
                       boost::json::serialize(boost::json::object{{"sessions_ended", ended}}), "user.sessions_ended",
                       schema::summarize_user(*user));
            return ended;
        });
    }

    std::int64_t count_sessions(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::string org{organization_id}, id{user_id}, now = ts(clock_.now());
            long long n = 0;
            sql << "SELECT COUNT(*) FROM sessions WHERE organization_id = :org AND user_id = :id AND expires_at > :now",
                use(org, "org"), use(id, "id"), use(now, "now"), into(n);
            return static_cast<std::int64_t>(n);
        });
    }

    // -- login activity ----------------------------------------------------------------------------

    void record_login(const schema::login_attempt& a) override {
        (void)db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org = a.organization_id, user = a.user_id, login = a.login, method = a.method,
                        reason = a.reason, addr = a.client_address, at = ts(a.at);
            int success = a.success ? 1 : 0;
            bound_statement st(sql);
            st.in(org, "org").in(user, "u").in(login, "l").in(method, "m").in(success, "s").in(reason, "r");
            st.in(addr, "a").in(at, "at");
            st.run("INSERT INTO login_events (organization_id, user_id, login_folded, method, success, reason, "
                   "client_address, at) VALUES (:org, :u, :l, :m, :s, :r, :a, :at)");
            // last_login_at is bookkeeping, not a change of the resource: no version bump, no ETag change.
            if (a.success && !user.empty())
                sql << "UPDATE users SET last_login_at = :at WHERE id = :u", use(at, "at"), use(user, "u");
            return {};
        }).value();
    }

    std::vector<core::time_point> failed_logins(std::string_view organization_id, std::string_view login_folded,
                                                core::time_point since, std::int64_t limit) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<core::time_point> out;
            std::string org{organization_id}, login{login_folded}, from = ts(since), at;
            long long lim = limit;
            bound_statement st(sql);
            st.out(at).in(org, "org").in(login, "l").in(from, "since").in(lim, "lim");
            if (st.run("SELECT at FROM login_events WHERE organization_id = :org AND login_folded = :l AND "
                       "success = 0 AND at >= :since ORDER BY at DESC LIMIT :lim")) {
                do out.push_back(parse_ts(at));
                while (st.next());
            }
            return out;
        });
    }

    std::int64_t count_failed_logins_from(std::string_view client_address, core::time_point since) override {
        return db_.read_only([&](soci::session& sql) {
            std::string addr{client_address}, from = ts(since);
            long long n = 0;
            sql << "SELECT COUNT(*) FROM login_events WHERE client_address = :a AND success = 0 AND at >= :since",
                use(addr, "a"), use(from, "since"), into(n);
            return static_cast<std::int64_t>(n);
        });
    }

    std::vector<schema::login_attempt> list_logins(std::string_view organization_id, std::string_view user_id,
                                                   std::int64_t limit) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<schema::login_attempt> out;
            std::string org{organization_id}, id{user_id}, at;
            long long lim = limit;
            int success = 0;
            schema::login_attempt a;
            bound_statement st(sql);
            st.out(a.login).out(a.method).out(success).out(a.reason).out(a.client_address).out(at);
            st.in(org, "org").in(id, "id").in(lim, "lim");
            if (st.run("SELECT login_folded, method, success, reason, client_address, at FROM login_events WHERE "
                       "organization_id = :org AND user_id = :id ORDER BY at DESC, id DESC LIMIT :lim")) {
                do {
                    a.organization_id = org;
                    a.user_id = id;
                    a.success = success != 0;
                    a.at = parse_ts(at);
                    out.push_back(a);
                } while (st.next());
            }
            return out;
        });
    }

    // -- MFA ---------------------------------------------------------------------------------------

    result<schema::mfa_state> get_mfa(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) -> result<schema::mfa_state> {
            std::string org{organization_id}, id{user_id};
            schema::mfa_state m;
            int confirmed = 0;
            long long step = 0;
            sql << "SELECT secret, confirmed, last_step FROM user_mfa WHERE organization_id = :org AND user_id = :id",
                use(org, "org"), use(id, "id"), into(m.secret), into(confirmed), into(step);
            if (!sql.got_data()) return schema::mfa_state{};
            m.confirmed = confirmed != 0;
            m.last_step = step;
            return m;
        });
    }

    result<void> set_mfa(std::string_view organization_id, std::string_view user_id, const schema::mfa_state& m,
                         std::string_view action, const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            auto user = db_.load_user(sql, organization_id, "id", user_id);
            if (!user) return user.error();
            std::string org{organization_id}, id{user_id}, secret = m.secret, now = ts(clock_.now());
            int confirmed = m.confirmed ? 1 : 0;
            long long step = m.last_step;
            sql << "DELETE FROM user_mfa WHERE user_id = :id", use(id, "id");
            // A new or reset enrolment invalidates the recovery codes of the old one.
            if (!m.confirmed) sql << "DELETE FROM mfa_recovery_codes WHERE user_id = :id", use(id, "id");
            if (!m.secret.empty())
                sql << "INSERT INTO user_mfa (user_id, organization_id, secret, confirmed, last_step, updated_at) "
                       "VALUES (:id, :org, :s, :c, :step, :now)",
                    use(id, "id"), use(org, "org"), use(secret, "s"), use(confirmed, "c"), use(step, "step"),
                    use(now, "now");
            // Enrolment and reset are audited; the secret never is.
            if (action != "user.mfa_enrol_start")
                db_.record(sql, org, by, action, "user", id, user->user_name,
                           boost::json::serialize(boost::json::object{{"mfa_enrolled", m.confirmed}}), "user.updated",
                           schema::summarize_user(*user));
            return {};
        });
    }

    result<void> use_mfa_step(std::string_view organization_id, std::string_view user_id,
                              std::int64_t step) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, id{user_id};
            long long s = step;
            bound_statement st(sql);
            st.in(s, "s").in(org, "org").in(id, "id");
            // Compare-and-set: of two requests with the same code, exactly one gets through (RFC 6238 §5.2).
            st.run("UPDATE user_mfa SET last_step = :s WHERE organization_id = :org AND user_id = :id AND "
                   "last_step < :s");
            if (st.affected_rows() != 1) return errc::already_used;
            return {};
        });
    }

    std::vector<stored_mfa_secret> list_mfa_secrets(std::string_view after_user_id, std::int64_t limit) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<stored_mfa_secret> out;
            std::string after{after_user_id};
            long long lim = limit;
            stored_mfa_secret row;
            bound_statement st(sql);
            st.out(row.user_id).out(row.secret);
            st.in(after, "after").in(lim, "lim");
            if (st.run("SELECT user_id, secret FROM user_mfa WHERE user_id > :after ORDER BY user_id LIMIT :lim")) {
                do out.push_back(row);
                while (st.next());
            }
            return out;
        });
    }

    bool replace_mfa_secret(std::string_view user_id, std::string_view expected,
                            std::string_view replacement) override {
        auto r = db_.write<bool>([&](soci::session& sql) -> result<bool> {
            std::string id{user_id}, old{expected}, next{replacement};
            bound_statement st(sql);
            st.in(next, "next").in(id, "id").in(old, "old");
            st.run("UPDATE user_mfa SET secret = :next WHERE user_id = :id AND secret = :old");
            return st.affected_rows() == 1;
        });
        return r && *r;
    }

    result<void> set_recovery_codes(std::string_view organization_id, std::string_view user_id,
                                    const std::vector<std::string>& code_hashes, const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            auto user = db_.load_user(sql, organization_id, "id", user_id);
            if (!user) return user.error();
            std::string org{organization_id}, id{user_id}, now = ts(clock_.now());
            sql << "DELETE FROM mfa_recovery_codes WHERE user_id = :id", use(id, "id");
            for (const auto& h : code_hashes) {
                std::string hash = h;
                sql << "INSERT INTO mfa_recovery_codes (user_id, organization_id, code_hash, created_at) VALUES (:id, "
                       ":org, :h, :now)",
                    use(id, "id"), use(org, "org"), use(hash, "h"), use(now, "now");
            }
            db_.record(sql, org, by, "user.mfa_recovery_codes_issue", "user", id, user->user_name,
                       boost::json::serialize(boost::json::object{{"count", code_hashes.size()}}), "user.updated",
                       schema::summarize_user(*user));
            return {};
        });
    }

    result<void> use_recovery_code(std::string_view organization_id, std::string_view user_id,
                                   std::string_view code_hash, const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, id{user_id}, hash{code_hash}, now = ts(clock_.now()), used;
            soci::indicator used_ind = soci::i_ok;
            sql << "SELECT used_at FROM mfa_recovery_codes WHERE organization_id = :org AND user_id = :id AND "
                   "code_hash = :h",
                use(org, "org"), use(id, "id"), use(hash, "h"), into(used, used_ind);
            if (!sql.got_data()) return errc::not_found;
            if (used_ind == soci::i_ok) return errc::already_used;
            bound_statement st(sql);
            st.in(now, "now").in(id, "id").in(hash, "h");
            st.run("UPDATE mfa_recovery_codes SET used_at = :now WHERE user_id = :id AND code_hash = :h AND "
                   "used_at IS NULL");
            if (st.affected_rows() != 1) return errc::already_used;
            auto user = db_.load_user(sql, organization_id, "id", user_id);
            if (!user) return user.error();
            db_.record(sql, org, by, "user.mfa_recovery_code_use", "user", id, user->user_name, "{}", "user.updated",
                       schema::summarize_user(*user));
            return {};
        });
    }

    std::int64_t count_recovery_codes(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::string org{organization_id}, id{user_id};
            long long n = 0;
            sql << "SELECT COUNT(*) FROM mfa_recovery_codes WHERE organization_id = :org AND user_id = :id AND "
                   "used_at IS NULL",
                use(org, "org"), use(id, "id"), into(n);
            return static_cast<std::int64_t>(n);
        });
    }

    // -- settings ----------------------------------------------------------------------------------

    result<schema::organization_settings> get_settings(std::string_view organization_id) override {
        return db_.read_only([&](soci::session& sql) -> result<schema::organization_settings> {
            std::string org{organization_id}, text;
            sql << "SELECT settings FROM organizations WHERE id = :org", use(org, "org"), into(text);
            if (!sql.got_data()) return errc::not_found;
            std::string error;
            auto parsed = schema::parse_organization_settings(text, error);
            if (!parsed) throw std::runtime_error("stored organization settings are invalid: " + error);
            return *parsed;
        });
    }

    result<void> set_settings(std::string_view organization_id, const schema::organization_settings& s,
                              const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, before, after = schema::to_json(s), now = ts(clock_.now());
            sql << "SELECT settings FROM organizations WHERE id = :org", use(org, "org"), into(before);
            if (!sql.got_data()) return errc::not_found;
            sql << "UPDATE organizations SET settings = :s, updated_at = :now, version = version + 1 WHERE id = :org",
                use(after, "s"), use(now, "now"), use(org, "org");
            const std::string details = boost::json::serialize(boost::json::object{
                {"settings", boost::json::object{{"from", boost::json::parse(before)}, {"to", boost::json::parse(after)}}}});
            db_.record(sql, org, by, "organization.settings_change", "organization", org, org, details,
                       "organization.updated", details);
            return {};
        });
    }

private:
    // Login counts are windows relative to now, bound as :since7, :since30 and :since365.
    struct window {
        std::string since7, since30, since365;
        explicit window(core::time_point now)
            : since7(ts(now - std::chrono::hours(24 * 7))),
              since30(ts(now - std::chrono::hours(24 * 30))),
              since365(ts(now - std::chrono::hours(24 * 365))) {}
        void bind(bound_statement& st) { st.in(since7, "since7").in(since30, "since30").in(since365, "since365"); }
    };

    std::string list_of(std::string_view expression) const {
        std::string out{d_.list_aggregate};
        out.replace(out.find("{}"), 2, expression);
        return out;
    }

    std::string account_select_list() const {
        const auto logins = [](const char* since) {
            return std::string("(SELECT COUNT(*) FROM login_events le WHERE le.user_id = u.id AND le.success = 1 AND "
                               "le.at >= :") + since + ")";
        };
        return db_.user_select() +
               ", (SELECT r.name FROM role_assignments ra JOIN roles r ON r.id = ra.role_id WHERE ra.user_id = u.id "
               "AND ra.is_system = 1)"
               ", (SELECT " + list_of("up.permission") + " FROM user_permissions up WHERE up.user_id = u.id)"
               ", (SELECT " + list_of("r.name") + " FROM role_assignments ra JOIN roles r ON r.id = ra.role_id "
               "WHERE ra.user_id = u.id AND r.kind = 'custom')"
               ", (SELECT " + list_of("rp.permission") + " FROM role_assignments ra JOIN role_permissions rp ON "
               "rp.role_id = ra.role_id WHERE ra.user_id = u.id AND ra.scope_id = '' AND ra.is_system = 0), " +
               std::string(d_.scoped_roles_json) +
               ", CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END"
               ", COALESCE((SELECT m.confirmed FROM user_mfa m WHERE m.user_id = u.id), 0), u.break_glass"
               ", (SELECT MAX(l.created_at) FROM one_time_links l WHERE l.user_id = u.id AND l.purpose = 'invitation')"
               ", (SELECT MAX(l.expires_at) FROM one_time_links l WHERE l.user_id = u.id AND l.purpose = "
               "'invitation' AND l.used_at IS NULL), " +
               logins("since7") + ", " + logins("since30") + ", " + logins("since365");
    }

    result<schema::account> load_account(soci::session& sql, std::string_view organization_id, const char* column,
                                         std::string_view key) {
        std::string org{organization_id}, k{key};
        account_row row;
        window w(clock_.now());
        bound_statement st(sql);
        row.bind(st);
        st.in(org, "org").in(k, "k");
        w.bind(st);
        if (!st.run("SELECT " + account_select_ + " FROM users u WHERE u.organization_id = :org AND u." + column +
                    " = :k"))
            return errc::not_found;
        return row.to_account(clock_.now());
    }

    result<schema::organization> load_organization(soci::session& sql, const std::string& organization_id) {
        std::string org = organization_id, slug, name, mode, created, updated;
        long long version = 1;
        sql << "SELECT slug, name, sso_mode, created_at, updated_at, version FROM organizations WHERE id = :org",
            use(org, "org"), into(slug), into(name), into(mode), into(created), into(updated), into(version);
        if (!sql.got_data()) return errc::not_found;
        return schema::organization{org, slug, name, schema::parse_sso_mode(mode).value_or(schema::sso_mode::off),
                                    parse_ts(created), parse_ts(updated), version};
    }

    // Serialises changes that must keep "at least one super_admin" true (PostgreSQL; SQLite's
    // BEGIN IMMEDIATE already serialises every writer).
    // Deletes the user (cascading to emails, memberships, roles, permissions, sessions, links and MFA
    // state) unless it is the organisation's last owner; returns what was deleted.
    result<schema::user> remove_user_keeping_an_owner(soci::session& sql, std::string_view organization_id,
                                                      std::string_view user_id) {
        db_.lock_organization(sql, organization_id);
        auto before = db_.load_user(sql, organization_id, "id", user_id);
        if (!before) return before.error();
        if (sql_runner::is_owner(sql, user_id) && sql_runner::count_owners(sql, organization_id, user_id) == 0) return errc::last_owner;
        std::string org{organization_id}, id{user_id};
        sql << "DELETE FROM users WHERE organization_id = :org AND id = :id", use(org, "org"), use(id, "id");
        return before;
    }

    // {"field": {"from": [...], "to": [...]}}: an audit record's before -> after of a list.
    static std::string list_from_to(std::string_view field, const std::vector<std::string>& from,
                                    const std::vector<std::string>& to) {
        boost::json::array a, b;
        for (const auto& v : from) a.emplace_back(v);
        for (const auto& v : to) b.emplace_back(v);
        return boost::json::serialize(
            boost::json::object{{std::string(field), boost::json::object{{"from", a}, {"to", b}}}});
    }

    static std::string from_to(std::string_view field, std::string_view from, std::string_view to) {
        return boost::json::serialize(
            boost::json::object{{std::string(field), boost::json::object{{"from", from}, {"to", to}}}});
    }

    static constexpr const char* link_columns =
        "id, organization_id, user_id, purpose, secret_hash, created_at, expires_at, used_at, payload";

    struct link_row {
        std::string id, org, user, purpose, hash, created, expires, used, payload;
        soci::indicator used_ind = soci::i_ok;
        void bind(bound_statement& st) {
            st.out(id).out(org).out(user).out(purpose).out(hash).out(created).out(expires).out(used, used_ind);
            st.out(payload);
        }
        schema::one_time_link to_link() const {
            schema::one_time_link l;
            l.id = id;
            l.organization_id = org;
            l.user_id = user;
            l.purpose = purpose == "password_reset" ? schema::link_purpose::password_reset
                        : purpose == "mfa_challenge" ? schema::link_purpose::mfa_challenge
                        : purpose == "email_change"  ? schema::link_purpose::email_change
                                                     : schema::link_purpose::invitation;
            l.payload = payload;
            l.secret_hash = hash;
            l.created = parse_ts(created);
            l.expires = parse_ts(expires);
            l.used = parse_optional_ts(used, used_ind);
            return l;
        }
    };

    static std::optional<schema::one_time_link> link_by_hash(soci::session& sql, std::string_view secret_hash) {
        std::string hash{secret_hash};
        link_row row;
        bound_statement st(sql);
        row.bind(st);
        st.in(hash, "h");
        if (!st.run(std::string("SELECT ") + link_columns + " FROM one_time_links WHERE secret_hash = :h"))
            return std::nullopt;
        return row.to_link();
    }

    void insert_link(soci::session& sql, const schema::one_time_link& l) {
        std::string id = l.id.empty() ? core::new_uuid() : l.id, org = l.organization_id, user = l.user_id,
                    purpose{schema::to_string(l.purpose)}, hash = l.secret_hash, created = ts(l.created),
                    expires = ts(l.expires), payload = l.payload;
        // Only the newest link of a purpose works: a resent invitation retires the one sent before.
        sql << "UPDATE one_time_links SET used_at = :now WHERE user_id = :u AND purpose = :p AND used_at IS NULL",
            use(created, "now"), use(user, "u"), use(purpose, "p");
        sql << "INSERT INTO one_time_links (id, organization_id, user_id, purpose, secret_hash, created_at, "
               "expires_at, payload) VALUES (:id, :org, :u, :p, :h, :c, :e, :payload)",
            use(id, "id"), use(org, "org"), use(user, "u"), use(purpose, "p"), use(hash, "h"), use(created, "c"),
            use(expires, "e"), use(payload, "payload");
    }

    sql_runner& db_;
    const dialect& d_;
    const core::clock& clock_;
    const std::string account_select_;
};

}  // namespace

std::unique_ptr<accounts> make_soci_accounts(sql_runner& db) { return std::make_unique<soci_accounts>(db); }

}  // namespace idgate::store::detail
