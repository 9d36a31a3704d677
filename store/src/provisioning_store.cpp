// SPDX-License-Identifier: AGPL-3.0-or-later
// The SOCI implementation of store::provisioning: IdP connections, identity bindings, the re-evaluation
// queue, grants reconciled to what a connection's rules say, and identity conflicts.
#include "provisioning_store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <set>

namespace idgate::store::detail {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string scope_key(std::string_view kind, std::string_view name) {
    return std::string(kind) + ":" + std::string(name);
}

struct conflict_row {
    std::string id, org, connection_id, connection_name, subject, user_id, user_name, reason, proposed, status,
        created, decided, decided_by;
    soci::indicator decided_ind = soci::i_ok;
    void bind(bound_statement& st) {
        st.out(id).out(org).out(connection_id).out(connection_name).out(subject).out(user_id).out(user_name);
        st.out(reason).out(proposed).out(status).out(created).out(decided, decided_ind).out(decided_by);
    }
    identity_conflict to_conflict() const {
        identity_conflict c;
        c.id = id;
        c.organization_id = org;
        c.connection_id = connection_id;
        c.connection_name = connection_name;
        c.subject = subject;
        c.existing_user_id = user_id;
        c.existing_user_name = user_name;
        c.reason = reason;
        c.proposed_json = proposed;
        c.status = status;
        c.created = parse_ts(created);
        c.decided = parse_optional_ts(decided, decided_ind);
        c.decided_by = decided_by;
        return c;
    }
};

constexpr const char* conflict_select =
    "SELECT x.id, x.organization_id, x.connection_id, c.name, x.subject, x.existing_user_id, u.user_name, x.reason, "
    "x.proposed, x.status, x.created_at, x.decided_at, x.decided_by FROM identity_conflicts x "
    "JOIN idp_connections c ON c.id = x.connection_id JOIN users u ON u.id = x.existing_user_id ";

class soci_provisioning final : public provisioning {
public:
    explicit soci_provisioning(sql_runner& db) : db_(db), clock_(db.clock()) {}

    // -- connections -------------------------------------------------------------------------------

    result<idp_connection> ensure_connection(std::string_view organization_id, std::string_view name,
                                             const actor& by) override {
        if (auto existing = find_connection(organization_id, name)) return *existing;
        idp_connection c{core::new_uuid(), std::string(organization_id), std::string(name), clock_.now()};
        auto created = db_.write<idp_connection>([&](soci::session& sql) -> result<idp_connection> {
            std::string id = c.id, org = c.organization_id, n = c.name, now = ts(c.created);
            sql << "INSERT INTO idp_connections (id, organization_id, name, created_at) VALUES (:id, :org, :n, :now)",
                use(id, "id"), use(org, "org"), use(n, "n"), use(now, "now");
            const std::string details = boost::json::serialize(boost::json::object{{"name", n}});
            db_.record(sql, org, by, "connection.create", "connection", id, n, details, "connection.created", details);
            return c;
        });
        // Two callers creating the same connection at once: the loser reads the winner's.
        if (!created && created.error() == errc::already_exists) {
            if (auto existing = find_connection(organization_id, name)) return *existing;
        }
        return created;
    }

    std::optional<idp_connection> find_connection(std::string_view organization_id, std::string_view name) override {
        auto all = connections("organization_id = :org AND name = :n", organization_id, name);
        if (all.empty()) return std::nullopt;
        return all.front();
    }

    std::vector<idp_connection> list_connections(std::string_view organization_id) override {
        return connections("organization_id = :org AND :n = :n", organization_id, "");
    }

    // -- bindings ----------------------------------------------------------------------------------

    std::optional<std::string> bound_user(std::string_view connection_id, std::string_view subject) override {
        return db_.read_only([&](soci::session& sql) -> std::optional<std::string> {
            std::string c{connection_id}, s{subject}, user;
            sql << "SELECT user_id FROM identity_bindings WHERE connection_id = :c AND subject = :s", use(c, "c"),
                use(s, "s"), into(user);
            if (!sql.got_data()) return std::nullopt;
            return user;
        });
    }

    std::optional<std::string> subject_of(std::string_view connection_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) -> std::optional<std::string> {
            std::string c{connection_id}, u{user_id}, subject;
            sql << "SELECT subject FROM identity_bindings WHERE connection_id = :c AND user_id = :u", use(c, "c"),
                use(u, "u"), into(subject);
            if (!sql.got_data()) return std::nullopt;
            return subject;
        });
    }

    result<void> bind(std::string_view organization_id, std::string_view connection_id, std::string_view subject,
                      std::string_view user_id, const actor& by) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string org{organization_id}, conn{connection_id}, sub{subject}, uid{user_id}, user_name;
            sql << "SELECT user_name FROM users WHERE organization_id = :org AND id = :u", use(org, "org"),
                use(uid, "u"), into(user_name);
            if (!sql.got_data()) return errc::not_found;
            db_.bind_identity(sql, org, conn, sub, uid);
            db_.queue_user(sql, uid);
            const std::string details =
                boost::json::serialize(boost::json::object{{"connection_id", conn}, {"subject", sub}});
            db_.record(sql, org, by, "user.identity_bind", "user", uid, user_name, details, "user.updated", details);
            return {};
        });
    }

    std::vector<std::pair<std::string, std::string>> bindings_of(std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<std::pair<std::string, std::string>> out;
            std::string u{user_id}, name, subject;
            bound_statement st(sql);
            st.out(name).out(subject).in(u, "u");
            if (st.run("SELECT c.name, b.subject FROM identity_bindings b JOIN idp_connections c ON c.id = "
                       "b.connection_id WHERE b.user_id = :u ORDER BY c.name")) {
                do out.emplace_back(name, subject);
                while (st.next());
            }
            return out;
        });
    }

    result<holder> holder_of(std::string_view organization_id, std::string_view connection_id,
                             std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) -> result<holder> {
            std::string org{organization_id}, conn{connection_id}, uid{user_id};
            long long here = 0, elsewhere = 0, links = 0;
            int has_password = 0;
            sql << "SELECT CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END, "
                   "(SELECT COUNT(*) FROM identity_bindings b WHERE b.user_id = u.id AND b.connection_id = :c), "
                   "(SELECT COUNT(*) FROM identity_bindings b WHERE b.user_id = u.id AND b.connection_id <> :c), "
                   "(SELECT COUNT(*) FROM one_time_links l WHERE l.user_id = u.id AND l.purpose = 'invitation') "
                   "FROM users u WHERE u.organization_id = :org AND u.id = :u",
                use(conn, "c"), use(org, "org"), use(uid, "u"), into(has_password), into(here), into(elsewhere),
                into(links);
            if (!sql.got_data()) return errc::not_found;
            if (here > 0) return holder::this_connection;
            if (elsewhere > 0) return holder::other_connection;
            return has_password || links > 0 ? holder::local : holder::nobody;
        });
    }

    std::vector<std::string> users_with_email(std::string_view organization_id, std::string_view email) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<std::string> out;
            std::string org{organization_id}, folded = schema::case_fold(email), id;
            if (folded.empty()) return out;
            bound_statement st(sql);
            st.out(id).in(org, "org").in(folded, "e");
            if (st.run("SELECT id FROM users WHERE organization_id = :org AND email_folded = :e ORDER BY id")) {
                do out.push_back(id);
                while (st.next());
            }
            return out;
        });
    }

    void set_sign_in_identity(std::string_view connection_id, std::string_view user_id,
                              const std::string& identity_json) override {
        (void)db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string c{connection_id}, u{user_id}, identity = identity_json;
            sql << "UPDATE identity_bindings SET identity = :i WHERE connection_id = :c AND user_id = :u",
                use(identity, "i"), use(c, "c"), use(u, "u");
            return {};
        });
    }

    std::optional<std::string> sign_in_identity(std::string_view connection_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) -> std::optional<std::string> {
            std::string c{connection_id}, u{user_id}, identity;
            soci::indicator ind = soci::i_ok;
            sql << "SELECT identity FROM identity_bindings WHERE connection_id = :c AND user_id = :u", use(c, "c"),
                use(u, "u"), into(identity, ind);
            if (!sql.got_data() || ind == soci::i_null) return std::nullopt;
            return identity;
        });
    }

    std::vector<std::string> bound_users(std::string_view connection_id, std::string_view after_user_id,
                                         std::int64_t limit) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<std::string> out;
            std::string c{connection_id}, after{after_user_id}, user;
            long long lim = std::max<std::int64_t>(1, limit);
            bound_statement st(sql);
            st.out(user).in(c, "c").in(after, "after").in(lim, "lim");
            if (st.run("SELECT user_id FROM identity_bindings WHERE connection_id = :c AND user_id > :after "
                       "ORDER BY user_id LIMIT :lim")) {
                do out.push_back(user);
                while (st.next());
            }
            return out;
        });
    }

    // -- the re-evaluation queue -------------------------------------------------------------------

    std::int64_t queue_connection(std::string_view connection_id) override {
        auto queued = db_.write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            db_.queue_connection_users(sql, std::string(connection_id));
            std::string c{connection_id};
            long long n = 0;
            sql << "SELECT COUNT(*) FROM identity_bindings WHERE connection_id = :c", use(c, "c"), into(n);
            return static_cast<std::int64_t>(n);
        });
        return queued ? *queued : 0;
    }

    std::vector<pending_evaluation> next_pending(std::int64_t limit) override {
        return pending("ORDER BY q.queued_at, q.user_id LIMIT :k", std::to_string(std::max<std::int64_t>(1, limit)));
    }

    std::vector<pending_evaluation> pending_for_user(std::string_view user_id) override {
        return pending("WHERE q.user_id = :k", std::string(user_id));
    }

    void finish_pending(const pending_evaluation& p) override {
        (void)db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string u = p.user_id, c = p.connection_id, t = p.ticket;
            sql << "DELETE FROM mapping_pending WHERE user_id = :u AND connection_id = :c AND ticket = :t",
                use(u, "u"), use(c, "c"), use(t, "t");
            return {};
        });
    }

    std::int64_t count_pending(std::string_view connection_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::string c{connection_id};
            long long n = 0;
            sql << "SELECT COUNT(*) FROM mapping_pending WHERE (:c = '' OR connection_id = :c)", use(c, "c"), into(n);
            return static_cast<std::int64_t>(n);
        });
    }

    // -- grants ------------------------------------------------------------------------------------

    result<reconcile_result> reconcile_grants(std::string_view organization_id, std::string_view user_id,
                                              std::string_view connection_id, const desired_grants& desired,
                                              bool dry_run, const actor& by) override {
        if (dry_run) {
            return db_.read_snapshot([&](soci::session& sql) {
                return reconcile(sql, organization_id, user_id, connection_id, desired, false, by);
            });
        }
        return db_.write<reconcile_result>([&](soci::session& sql) {
            return reconcile(sql, organization_id, user_id, connection_id, desired, true, by);
        });
    }

    // -- identity conflicts ------------------------------------------------------------------------

    result<identity_conflict> record_conflict(identity_conflict c, const actor& by) override {
        c.id = core::new_uuid();
        c.created = clock_.now();
        c.status = "pending";
        auto written = db_.write<identity_conflict>([&](soci::session& sql) -> result<identity_conflict> {
            std::string id = c.id, org = c.organization_id, conn = c.connection_id, sub = c.subject,
                        uid = c.existing_user_id, reason = c.reason, proposed = c.proposed_json, now = ts(c.created);
            sql << "INSERT INTO identity_conflicts (id, organization_id, connection_id, subject, existing_user_id, "
                   "reason, proposed, status, created_at) VALUES (:id, :org, :c, :s, :u, :r, :p, 'pending', :now)",
                use(id, "id"), use(org, "org"), use(conn, "c"), use(sub, "s"), use(uid, "u"), use(reason, "r"),
                use(proposed, "p"), use(now, "now");
            const std::string details = boost::json::serialize(
                boost::json::object{{"connection_id", conn}, {"subject", sub}, {"reason", reason}});
            db_.record(sql, org, by, "identity_conflict.create", "user", uid, c.existing_user_name, details,
                       "identity_conflict.created", details);
            return c;
        });
        if (!written && written.error() == errc::already_exists) {
            // The IdP retried: one pending conflict per (connection, subject, account).
            for (auto& existing : list_conflicts(c.organization_id, "pending"))
                if (existing.connection_id == c.connection_id && existing.subject == c.subject &&
                    existing.existing_user_id == c.existing_user_id)
                    return existing;
        }
        if (!written) return written.error();
        return get_conflict(c.organization_id, c.id);
    }

    std::vector<identity_conflict> list_conflicts(std::string_view organization_id, std::string_view status) override {
        return db_.read_only([&](soci::session& sql) {
            std::vector<identity_conflict> out;
            std::string org{organization_id}, s{status};
            conflict_row row;
            bound_statement st(sql);
            row.bind(st);
            st.in(org, "org").in(s, "s");
            if (st.run(std::string(conflict_select) +
                       "WHERE x.organization_id = :org AND (:s = '' OR x.status = :s) ORDER BY x.created_at, x.id")) {
                do out.push_back(row.to_conflict());
                while (st.next());
            }
            return out;
        });
    }

    result<identity_conflict> get_conflict(std::string_view organization_id, std::string_view id) override {
        return db_.read_only([&](soci::session& sql) { return load_conflict(sql, organization_id, id); });
    }

    result<identity_conflict> decide_conflict(std::string_view organization_id, std::string_view id, bool approve,
                                              const actor& by) override {
        return db_.write<identity_conflict>([&](soci::session& sql) -> result<identity_conflict> {
            auto c = load_conflict(sql, organization_id, id);
            if (!c) return c.error();
            if (c->status != "pending") return errc::already_used;
            std::string status = approve ? "approved" : "rejected", now = ts(clock_.now()), who = by.display,
                        cid = c->id;
            bound_statement st(sql);
            st.in(status, "s").in(now, "now").in(who, "by").in(cid, "id");
            st.run("UPDATE identity_conflicts SET status = :s, decided_at = :now, decided_by = :by WHERE id = :id AND "
                   "status = 'pending'");
            if (st.affected_rows() != 1) return errc::already_used;
            if (approve) {
                db_.bind_identity(sql, c->organization_id, c->connection_id, c->subject, c->existing_user_id);
                db_.queue_user(sql, c->existing_user_id);
            }
            const std::string details = boost::json::serialize(boost::json::object{
                {"conflict_id", cid}, {"connection", c->connection_name}, {"subject", c->subject}, {"decision", status}});
            db_.record(sql, c->organization_id, by, "identity_conflict." + std::string(approve ? "approve" : "reject"),
                       "user", c->existing_user_id, c->existing_user_name, details, "user.updated", details);
            return load_conflict(sql, organization_id, id);
        });
    }

    result<void> save_sign_in_state(const sign_in_state& s) override {
        return db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string id = s.id, org = s.organization_id, conn = s.connection, protocol = s.protocol,
                        nonce = s.nonce, verifier = s.code_verifier, ret = s.return_to, created = ts(s.created),
                        expires = ts(s.expires);
            bound_statement st(sql);
            st.in(id, "id").in(org, "org").in(conn, "c").in(protocol, "p").in(nonce, "n").in(verifier, "v");
            st.in(ret, "r").in(created, "created").in(expires, "expires");
            st.run("INSERT INTO sign_in_states (id, organization_id, connection, protocol, nonce, code_verifier, "
                   "return_to, created_at, expires_at) VALUES (:id, :org, :c, :p, :n, :v, :r, :created, :expires)");
            return {};
        });
    }

    result<sign_in_state> take_sign_in_state(std::string_view id) override {
        return db_.write<sign_in_state>([&](soci::session& sql) -> result<sign_in_state> {
            std::string key{id}, created, expires, used, now = ts(clock_.now());
            soci::indicator used_ind = soci::i_ok;
            sign_in_state s;
            bound_statement st(sql);
            st.out(s.id).out(s.organization_id).out(s.connection).out(s.protocol).out(s.nonce).out(s.code_verifier);
            st.out(s.return_to).out(created).out(expires).out(used, used_ind).in(key, "id");
            if (!st.run("SELECT id, organization_id, connection, protocol, nonce, code_verifier, return_to, created_at, "
                        "expires_at, used_at FROM sign_in_states WHERE id = :id" +
                        std::string(db_.postgres() ? " FOR UPDATE" : "")))
                return errc::not_found;
            if (used_ind == soci::i_ok) return errc::already_used;
            s.created = parse_ts(created);
            s.expires = parse_ts(expires);
            if (s.expires <= clock_.now()) return errc::expired;
            // Compare-and-set: of two callbacks racing with one state, one wins.
            bound_statement mark(sql);
            mark.in(now, "now").in(key, "id");
            mark.run("UPDATE sign_in_states SET used_at = :now WHERE id = :id AND used_at IS NULL");
            if (mark.affected_rows() != 1) return errc::already_used;
            return s;
        });
    }

    std::int64_t prune_sign_in_states(core::time_point cutoff) override {
        auto n = db_.write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            std::string c = ts(cutoff);
            bound_statement st(sql);
            st.in(c, "c");
            st.run("DELETE FROM sign_in_states WHERE expires_at < :c");
            const auto states = static_cast<std::int64_t>(st.affected_rows());
            bound_statement seen(sql);
            seen.in(c, "c");
            seen.run("DELETE FROM seen_assertions WHERE expires_at < :c");
            return states + static_cast<std::int64_t>(seen.affected_rows());
        });
        return n ? *n : 0;
    }

    result<void> remember_assertion(std::string_view connection_id, std::string_view assertion_id,
                                    core::time_point until) override {
        auto r = db_.write<void>([&](soci::session& sql) -> result<void> {
            std::string c{connection_id}, a{assertion_id}, u = ts(until);
            sql << "INSERT INTO seen_assertions (connection_id, assertion_id, expires_at) VALUES (:c, :a, :u)",
                use(c, "c"), use(a, "a"), use(u, "u");
            return {};
        });
        if (!r && r.error() == errc::already_exists) return errc::already_used;
        return r;
    }

    std::int64_t end_idp_sessions(std::string_view connection_id, std::string_view idp_session,
                                  std::string_view user_id) override {
        auto n = db_.write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            std::string c{connection_id}, sid{idp_session}, u{user_id};
            bound_statement st(sql);
            st.in(c, "c").in(sid, "sid").in(u, "u");
            st.run("DELETE FROM sessions WHERE connection_id = :c AND ((:sid <> '' AND idp_session = :sid) OR "
                   "(:u <> '' AND user_id = :u))");
            return static_cast<std::int64_t>(st.affected_rows());
        });
        return n ? *n : 0;
    }

    std::int64_t end_subject_sessions(std::string_view connection_id, std::string_view subject) override {
        if (subject.empty()) return 0;
        auto n = db_.write<std::int64_t>([&](soci::session& sql) -> result<std::int64_t> {
            std::string c{connection_id}, s{subject};
            bound_statement st(sql);
            st.in(c, "c").in(s, "s");
            st.run("DELETE FROM sessions WHERE connection_id = :c AND idp_subject = :s");
            return static_cast<std::int64_t>(st.affected_rows());
        });
        return n ? *n : 0;
    }

    bool email_verified(std::string_view organization_id, std::string_view user_id) override {
        return db_.read_only([&](soci::session& sql) {
            std::string org{organization_id}, u{user_id};
            long long n = 0;
            sql << "SELECT COUNT(*) FROM one_time_links WHERE organization_id = :org AND user_id = :u AND purpose IN "
                   "('invitation', 'email_change') AND used_at IS NOT NULL AND used_at < expires_at",
                use(org, "org"), use(u, "u"), into(n);
            return n > 0;
        });
    }

private:
    std::vector<pending_evaluation> pending(const char* tail, const std::string& key) {
        return db_.read_only([&](soci::session& sql) {
            std::vector<pending_evaluation> out;
            pending_evaluation p;
            std::string k = key;
            long long lim = 0;
            const bool limited = std::string_view(tail).find("LIMIT") != std::string_view::npos;
            if (limited) lim = std::stoll(key);
            bound_statement st(sql);
            st.out(p.user_id).out(p.organization_id).out(p.organization_slug).out(p.connection_id);
            st.out(p.connection_name).out(p.ticket);
            if (limited) st.in(lim, "k");
            else st.in(k, "k");
            if (st.run(std::string("SELECT q.user_id, q.organization_id, o.slug, q.connection_id, c.name, q.ticket "
                                   "FROM mapping_pending q JOIN organizations o ON o.id = q.organization_id JOIN "
                                   "idp_connections c ON c.id = q.connection_id ") + tail)) {
                do out.push_back(p);
                while (st.next());
            }
            return out;
        });
    }

    std::vector<idp_connection> connections(const char* condition, std::string_view organization_id,
                                            std::string_view name) {
        return db_.read_only([&](soci::session& sql) {
            std::vector<idp_connection> out;
            std::string org{organization_id}, n{name}, created;
            idp_connection c;
            bound_statement st(sql);
            st.out(c.id).out(c.organization_id).out(c.name).out(created).in(org, "org").in(n, "n");
            if (st.run(std::string("SELECT id, organization_id, name, created_at FROM idp_connections WHERE ") +
                       condition + " ORDER BY name")) {
                do {
                    c.created = parse_ts(created);
                    out.push_back(c);
                } while (st.next());
            }
            return out;
        });
    }

    static result<identity_conflict> load_conflict(soci::session& sql, std::string_view organization_id,
                                                   std::string_view id) {
        std::string org{organization_id}, cid{id};
        conflict_row row;
        bound_statement st(sql);
        row.bind(st);
        st.in(org, "org").in(cid, "id");
        if (!st.run(std::string(conflict_select) + "WHERE x.organization_id = :org AND x.id = :id"))
            return errc::not_found;
        return row.to_conflict();
    }

    struct held_grant {
        std::string value, rule, scope_id;
    };

    // Works out, and with `apply` makes, the changes that bring the connection's grants to `desired`.
    result<reconcile_result> reconcile(soci::session& sql, std::string_view organization_id, std::string_view user_id,
                                       std::string_view connection_id, const desired_grants& desired, bool apply,
                                       const actor& by) {
        const std::string org{organization_id}, uid{user_id}, conn{connection_id};
        if (apply) db_.lock_organization(sql, org);  // the owner invariant below
        auto user = db_.load_user(sql, org, "id", uid, apply && db_.postgres());
        if (!user) return user.error();
        reconcile_result out;
        out.user_id = uid;
        out.user_name = user->user_name;
        const auto change = [&](std::string op, std::string what, std::string value, std::string rule,
                                std::string note = {}) {
            out.changes.push_back({std::move(op), std::move(what), std::move(value), std::move(rule), std::move(note)});
        };

        // System role: the connection's rules win over a local role; without a grant, one the connection
        // gave reverts to member (unless the rule behind it is undetermined).
        std::string current_role = "member", current_source = "local", current_rule;
        {
            std::string role_id;
            sql << "SELECT role_id, source, rule FROM role_assignments WHERE user_id = :u AND is_system = 1",
                use(uid, "u"), into(role_id), into(current_source), into(current_rule);
            if (sql.got_data() && role_id.rfind("system:", 0) == 0) current_role = role_id.substr(7);
            if (!sql.got_data()) current_source = "local";
        }
        std::optional<schema::system_role> next_role;
        std::string next_rule;
        if (desired.system_role) {
            const std::string wanted{schema::to_string(*desired.system_role)};
            if (wanted != current_role || current_source != conn || current_rule != desired.system_role_rule) {
                next_role = desired.system_role;
                next_rule = desired.system_role_rule;
                if (wanted != current_role) {
                    change("remove", "system_role", current_role, {});
                    change("add", "system_role", wanted, desired.system_role_rule);
                } else if (current_source != conn) {
                    change("add", "system_role", wanted, desired.system_role_rule, "now managed by the connection");
                }
            }
        } else if (current_source == conn) {
            if (contains(desired.keep_rules, current_rule)) {
                change("keep", "system_role", current_role, current_rule, "its rule could not be evaluated");
            } else if (current_role != "member") {
                next_role = schema::system_role::member;
                change("remove", "system_role", current_role, {});
                change("add", "system_role", "member", {}, "no rule grants a system role");
            }
        }
        if (next_role && current_role == "super_admin" && *next_role != schema::system_role::super_admin &&
            sql_runner::count_owners(sql, org, uid) == 0) {
            // Never leave the organisation without an owner, whatever the rules say.
            std::erase_if(out.changes, [](const grant_change& c) { return c.what == "system_role"; });
            change("skip", "system_role", std::string(schema::to_string(*next_role)), next_rule,
                   "the organization's last super_admin keeps the role");
            next_role.reset();
        }
        if (apply && next_role) {
            const bool from_connection = desired.system_role.has_value();
            db_.assign_system_role(sql, org, uid, *next_role, from_connection ? conn : std::string("local"),
                                   from_connection ? next_rule : std::string());
        }

        // Scoped roles: one per workspace or project; the connection's grant replaces a local one there.
        std::map<std::string, held_grant> held_scoped;  // "workspace:Name" -> role
        {
            std::string scope_id, kind, name, role_id, rule;
            bound_statement st(sql);
            st.out(scope_id).out(kind).out(name).out(role_id).out(rule).in(uid, "u").in(conn, "c");
            if (st.run("SELECT ra.scope_id, s.kind, s.name, ra.role_id, ra.rule FROM role_assignments ra JOIN "
                       "resource_scopes s ON s.id = ra.scope_id WHERE ra.user_id = :u AND ra.source = :c")) {
                do held_scoped[scope_key(kind, name)] = {role_id.substr(role_id.find(':') + 1), rule, scope_id};
                while (st.next());
            }
        }
        std::set<std::string> wanted_scopes;
        for (const auto& s : desired.scoped_roles) {
            const std::string kind{schema::to_string(s.kind)}, key = scope_key(kind, s.scope_name),
                              role{schema::to_string(s.role)};
            wanted_scopes.insert(key);
            const auto held = held_scoped.find(key);
            if (held != held_scoped.end() && held->second.value == role) {
                if (apply && held->second.rule != s.rule) set_rule(sql, "role_assignments", uid, held->second.scope_id, s.rule);
                continue;
            }
            change("add", "scoped_role", key + "=" + role, s.rule);
            if (held != held_scoped.end()) change("remove", "scoped_role", key + "=" + held->second.value, {});
            if (apply) {
                const std::string scope_id = ensure_scope(sql, org, kind, s.scope_name, by);
                std::string sid = scope_id, rid = "scoped:" + role, rule = s.rule, now = ts(clock_.now());
                sql << "DELETE FROM role_assignments WHERE user_id = :u AND scope_id = :s", use(uid, "u"), use(sid, "s");
                sql << "INSERT INTO role_assignments (organization_id, user_id, role_id, scope_id, is_system, source, "
                       "rule, created_at) VALUES (:org, :u, :r, :s, 0, :c, :rule, :now)",
                    use(org, "org"), use(uid, "u"), use(rid, "r"), use(sid, "s"), use(conn, "c"), use(rule, "rule"),
                    use(now, "now");
            }
        }
        for (const auto& [key, held] : held_scoped) {
            if (wanted_scopes.count(key)) continue;
            if (contains(desired.keep_rules, held.rule)) {
                change("keep", "scoped_role", key + "=" + held.value, held.rule, "its rule could not be evaluated");
                continue;
            }
            change("remove", "scoped_role", key + "=" + held.value, {});
            if (apply) {
                std::string sid = held.scope_id;
                sql << "DELETE FROM role_assignments WHERE user_id = :u AND scope_id = :s AND source = :c",
                    use(uid, "u"), use(sid, "s"), use(conn, "c");
            }
        }

        // Permissions: a permission a local admin granted stays theirs.
        std::map<std::string, std::pair<std::string, std::string>> held_permissions;  // name -> (source, rule)
        {
            std::string name, source, rule;
            bound_statement st(sql);
            st.out(name).out(source).out(rule).in(uid, "u");
            if (st.run("SELECT permission, source, rule FROM user_permissions WHERE user_id = :u")) {
                do held_permissions[name] = {source, rule};
                while (st.next());
            }
        }
        std::set<std::string> wanted_permissions;
        for (const auto& p : desired.permissions) {
            wanted_permissions.insert(p.name);
            const auto held = held_permissions.find(p.name);
            if (held != held_permissions.end()) {
                if (apply && held->second.first == conn && held->second.second != p.rule)
                    set_rule(sql, "user_permissions", uid, p.name, p.rule);
                continue;
            }
            std::string name = p.name, rule = p.rule, now = ts(clock_.now());
            long long defined = 0;
            sql << "SELECT COUNT(*) FROM permissions WHERE organization_id = :org AND name = :n", use(org, "org"),
                use(name, "n"), into(defined);
            if (defined == 0) {
                change("skip", "permission", name, rule, "the organization defines no such permission");
                continue;
            }
            change("add", "permission", name, rule);
            if (apply)
                sql << "INSERT INTO user_permissions (user_id, organization_id, permission, source, rule, created_at) "
                       "VALUES (:u, :org, :n, :c, :rule, :now)",
                    use(uid, "u"), use(org, "org"), use(name, "n"), use(conn, "c"), use(rule, "rule"), use(now, "now");
        }
        for (const auto& [name, held] : held_permissions) {
            if (held.first != conn || wanted_permissions.count(name)) continue;
            if (contains(desired.keep_rules, held.second)) {
                change("keep", "permission", name, held.second, "its rule could not be evaluated");
                continue;
            }
            change("remove", "permission", name, {});
            if (apply) {
                std::string n = name;
                sql << "DELETE FROM user_permissions WHERE user_id = :u AND permission = :n AND source = :c",
                    use(uid, "u"), use(n, "n"), use(conn, "c");
            }
        }

        // The connection's without_grants policy: access ends with the last rule that granted it.
        if (desired.disable && user->active) {
            if (current_role == "super_admin" && sql_runner::count_owners(sql, org, uid) == 0) {
                change("skip", "status", "disabled", {}, "the organization's last super_admin stays enabled");
            } else {
                change("disable", "status", "disabled", {}, "no rule grants access any more");
                if (apply) {
                    schema::user next = *user;
                    next.active = false;
                    next.status = schema::user_status::disabled;
                    auto stored = db_.store_user_update(sql, *user, next, by);
                    if (!stored) return stored.error();
                }
            }
        }

        if (apply && out.changed()) {
            boost::json::array changes;
            for (const auto& c : out.changes) {
                boost::json::object o{{"op", c.op}, {"what", c.what}, {"value", c.value}};
                if (!c.rule.empty()) o["rule"] = c.rule;
                if (!c.note.empty()) o["note"] = c.note;
                changes.push_back(std::move(o));
            }
            const std::string details =
                boost::json::serialize(boost::json::object{{"connection_id", conn}, {"changes", changes}});
            db_.record(sql, org, by, "user.grants_reconcile", "user", uid, user->user_name, details, "user.updated",
                       schema::summarize_user(*user));
        }
        return out;
    }

    static void set_rule(soci::session& sql, const char* table, const std::string& user_id, const std::string& key,
                         const std::string& rule) {
        std::string u = user_id, k = key, r = rule;
        const bool roles = std::string_view(table) == "role_assignments";
        sql << std::string("UPDATE ") + table + " SET rule = :r WHERE user_id = :u AND " +
                   (roles ? "scope_id" : "permission") + " = :k",
            use(r, "r"), use(u, "u"), use(k, "k");
    }

    // The workspace or project a rule names, created (audited) when the organisation has none by that name.
    std::string ensure_scope(soci::session& sql, const std::string& org, const std::string& kind,
                             const std::string& name, const actor& by) {
        std::string o = org, k = kind, n = name, id;
        sql << "SELECT id FROM resource_scopes WHERE organization_id = :org AND kind = :k AND name = :n",
            use(o, "org"), use(k, "k"), use(n, "n"), into(id);
        if (sql.got_data()) return id;
        id = core::new_uuid();
        std::string now = ts(clock_.now());
        sql << "INSERT INTO resource_scopes (id, organization_id, kind, name, created_at) VALUES (:id, :org, :k, :n, "
               ":now)",
            use(id, "id"), use(o, "org"), use(k, "k"), use(n, "n"), use(now, "now");
        const std::string details =
            boost::json::serialize(boost::json::object{{"kind", k}, {"name", n}, {"created_by", "mapping rules"}});
        db_.record(sql, org, by, k + ".create", k, id, n, details, k + ".created", details);
        return id;
    }

    sql_runner& db_;
    const core::clock& clock_;
};

}  // namespace

std::unique_ptr<provisioning> make_soci_provisioning(sql_runner& db) {
    return std::make_unique<soci_provisioning>(db);
}

}  // namespace idgate::store::detail

namespace idgate::store {

bool reconcile_result::changed() const {
    return std::any_of(changes.begin(), changes.end(), [](const grant_change& c) {
        return c.op == "add" || c.op == "remove" || c.op == "disable";
    });
}

}  // namespace idgate::store
