// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What every SOCI-backed part of the store shares: error classification, statement binding, the user
// row mapping, and sql_runner -- the transaction plumbing (leases, retries, the audit record and change
// event written inside each write). Internal to store/src; SOCI types never leave this module.
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "dialect.hpp"
#include "migrations.hpp"
#include "pg_prepared.hpp"
#include "pool.hpp"
#include "sqlite_prepared.hpp"
#include "write_batch.hpp"
#include "schema/account.hpp"
#include "store/store.hpp"

namespace idgate::store::detail {

using schema::actor;
using soci::into;
using soci::use;

// ---------------------------------------------------------------------------------------------------
// Error classification: what a SOCI exception means for the caller.

enum class failure { unique_violation, foreign_key_violation, retryable, connection, other };

inline failure classify(const soci::soci_error& e) {
    if (std::getenv("IDGATE_DEBUG_SQL")) std::fprintf(stderr, "soci error: %s\n", e.what());
    if (const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
        const int primary = s->result() & 0xff;
        const std::string message = e.get_error_message();
        if (primary == 19 /* SQLITE_CONSTRAINT */) {
            if (message.find("UNIQUE") != std::string::npos || message.find("PRIMARY KEY") != std::string::npos)
                return failure::unique_violation;
            if (message.find("FOREIGN KEY") != std::string::npos) return failure::foreign_key_violation;
            return failure::other;
        }
        if (primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */) return failure::retryable;
        return failure::other;
    }
    if (const auto* p = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        const std::string state = p->sqlstate();
        if (state == "23505") return failure::unique_violation;
        if (state == "23503") return failure::foreign_key_violation;
        // serialization_failure, deadlock_detected, lock_not_available (a shared write transaction's
        // lock_timeout, write_batch.hpp): the transaction can simply run again.
        if (state == "40001" || state == "40P01" || state == "55P03") return failure::retryable;
        // connection_exception class, admin_shutdown, crash_shutdown, cannot_connect_now.
        if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03")
            return failure::connection;
    }
    if (e.get_error_category() == soci::soci_error::connection_error) return failure::connection;
    return failure::other;
}

[[noreturn]] inline void throw_infrastructure(const soci::soci_error& e, failure f) {
    if (f == failure::connection || f == failure::retryable)
        throw unavailable("database unavailable: " + e.get_error_message());
    // A failure we did not expect is a bug or a schema drift: a 500, with the database's words logged.
    throw std::runtime_error("database error: " + e.get_error_message());
}

// A database error that is a write's own outcome: a duplicate is errc::already_exists, a missing
// referenced row errc::not_found, anything unexpected a 500 (thrown). False: a failure of the transaction
// (busy, deadlock, a lost connection), for the write batcher to retry.
template <typename T>
bool own_outcome(std::optional<result<T>>& outcome, const soci::soci_error& e) {
    const failure f = classify(e);
    if (f == failure::unique_violation) outcome.emplace(errc::already_exists);
    else if (f == failure::foreign_key_violation) outcome.emplace(errc::not_found);
    else if (f == failure::other) throw_infrastructure(e, f);
    else return false;
    return true;
}

// ---------------------------------------------------------------------------------------------------
// Small binding helpers. soci::use binds by reference: every bound variable must outlive execute().

inline std::string ts(core::time_point t) { return core::format_timestamp(t); }

inline core::time_point parse_ts(const std::string& text) {
    auto t = core::parse_timestamp(text);
    if (!t) throw std::runtime_error("database holds a malformed timestamp: '" + text + "'");
    return *t;
}

inline std::optional<core::time_point> parse_optional_ts(const std::string& text, soci::indicator ind) {
    if (ind == soci::i_null) return std::nullopt;
    return parse_ts(text);
}

// A statement built from bindings, so long column lists can be bound by helpers instead of one
// enormous comma expression. It runs as a statement prepared once per connection: on PostgreSQL by
// pg_prepared.hpp, on SQLite by sqlite_prepared.hpp.
class bound_statement {
public:
    explicit bound_statement(soci::session& sql) {
        if (PGconn* conn = postgres_connection(sql)) pg_.emplace(conn);
        else lite_.emplace(sqlite_connection(sql));
    }
    template <typename T>
    bound_statement& in(T& value, const char* name) {
        if (pg_) pg_->add_param(name, &value, nullptr, text_codec<T>());
        else lite_->add_param(name, &value, nullptr, lite_kind<T>(), sqlite_statement::integer_getter<T>());
        return *this;
    }
    template <typename T>
    bound_statement& in(T& value, soci::indicator& ind, const char* name) {
        if (pg_) pg_->add_param(name, &value, &ind, text_codec<T>());
        else lite_->add_param(name, &value, &ind, lite_kind<T>(), sqlite_statement::integer_getter<T>());
        return *this;
    }
    template <typename T>
    bound_statement& out(T& value) {
        if (pg_) pg_->add_column(&value, nullptr, &from_text<T>);
        else lite_->add_column(&value, nullptr, lite_kind<T>(), sqlite_statement::integer_setter<T>());
        return *this;
    }
    template <typename T>
    bound_statement& out(T& value, soci::indicator& ind) {
        if (pg_) pg_->add_column(&value, &ind, &from_text<T>);
        else lite_->add_column(&value, &ind, lite_kind<T>(), sqlite_statement::integer_setter<T>());
        return *this;
    }
    // Runs a statement whose outcome is only "done or failed" (an INSERT, an audit record): on
    // PostgreSQL it is queued and sent with the transaction's next round trip (pg_prepared.hpp); on
    // SQLite, which has no round trips, it runs now. A failure surfaces at that round trip, in the same
    // transaction, so it rolls back everything as if it had failed here.
    void defer(const std::string& query) {
        if (pg_) pg_->defer(query);
        else lite_->run(query);
    }
    // PostgreSQL: queues a read whose result a later run() of the same statement and values in this
    // transaction takes (pg_statement::read_ahead). SQLite has no round trips to save: nothing.
    void read_ahead(const std::string& query) {
        if (pg_) pg_->read_ahead(query);
    }
    // Executes and fetches the first row, if the statement returns rows; returns whether it got one.
    bool run(const std::string& query) { return pg_ ? pg_->run(query) : lite_->run(query); }
    bool next() { return pg_ ? pg_->next() : lite_->next(); }
    long long affected_rows() { return pg_ ? pg_->affected_rows() : lite_->affected_rows(); }

private:
    template <typename T>
    static constexpr sqlite_statement::kind lite_kind() {
        return sqlite_statement::kind_of<T>();
    }
    std::optional<pg_statement> pg_;
    std::optional<sqlite_statement> lite_;
};

// ---------------------------------------------------------------------------------------------------
// Users: the column list once, with the row type that binds to it.

// The columns of a user, against `users u`; the dialect appends the emails and phone numbers as JSON.
inline constexpr const char* user_columns =
    "u.id, u.organization_id, u.user_name, u.external_id, u.formatted_name, u.family_name, u.given_name, "
    "u.middle_name, u.honorific_prefix, u.honorific_suffix, u.display_name, u.nick_name, u.profile_url, u.title, "
    "u.department, u.user_type, u.preferred_language, u.locale, u.timezone, u.status, u.extensions, u.created_at, "
    "u.updated_at, u.last_login_at, u.active, u.version";

inline std::string user_select_list(const dialect& d) {
    std::string out = user_columns;
    for (const char* table : {"user_emails", "user_phone_numbers"}) {
        std::string fragment{d.multi_values_json};
        fragment.replace(fragment.find("{table}"), 7, table);
        out += ", " + fragment;
    }
    out += ", " + std::string(d.groups_json);
    return out;
}

// [{"p": position, "v": value, "t": type, "d": display, "pr": 0|1}, ...] in position order.
inline std::vector<schema::multi_value> parse_multi_values(const std::string& text) {
    std::vector<std::pair<std::int64_t, schema::multi_value>> rows;
    const auto parsed = boost::json::parse(text.empty() ? std::string("[]") : text);
    for (const auto& item : parsed.as_array()) {
        const auto& o = item.as_object();
        const auto str = [&o](const char* key) {
            const auto* v = o.if_contains(key);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        const auto* pr = o.if_contains("pr");
        const bool primary = pr && ((pr->is_int64() && pr->as_int64() != 0) || (pr->is_bool() && pr->as_bool()));
        rows.emplace_back(o.at("p").to_number<std::int64_t>(), schema::multi_value{str("v"), str("t"), str("d"), primary});
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<schema::multi_value> out;
    for (auto& r : rows) out.push_back(std::move(r.second));
    return out;
}

struct user_row {
    std::string id, organization_id, user_name, external_id, formatted, family, given, middle, prefix, suffix,
        display, nick, profile_url, title, department, user_type, preferred_language, locale, timezone, status,
        extensions, created, updated, last_login, emails_json, phones_json, groups_json;
    soci::indicator last_login_ind = soci::i_ok;
    int active = 1;
    long long version = 1;

    // `st`: a bound_statement, or pg_columns for a pipelined read's result.
    template <typename Columns>
    void bind(Columns& st) {
        st.out(id).out(organization_id).out(user_name).out(external_id).out(formatted).out(family).out(given);
        st.out(middle).out(prefix).out(suffix).out(display).out(nick).out(profile_url).out(title);
        st.out(department).out(user_type).out(preferred_language).out(locale).out(timezone).out(status);
        st.out(extensions).out(created).out(updated).out(last_login, last_login_ind).out(active).out(version);
        st.out(emails_json).out(phones_json).out(groups_json);
    }

    schema::user to_user() const {
        schema::user u;
        u.id = id;
        u.organization_id = organization_id;
        u.user_name = user_name;
        u.external_id = external_id;
        u.name = {formatted, family, given, middle, prefix, suffix};
        u.display_name = display;
        u.nick_name = nick;
        u.profile_url = profile_url;
        u.title = title;
        u.department = department;
        u.user_type = user_type;
        u.preferred_language = preferred_language;
        u.locale = locale;
        u.timezone = timezone;
        u.status = schema::parse_user_status(status).value_or(schema::user_status::active);
        u.extensions_json = extensions;
        u.created = parse_ts(created);
        u.updated = parse_ts(updated);
        u.last_login = parse_optional_ts(last_login, last_login_ind);
        u.active = active != 0;
        u.version = version;
        u.emails = parse_multi_values(emails_json);
        u.phone_numbers = parse_multi_values(phones_json);
        const auto groups = boost::json::parse(groups_json.empty() ? std::string("[]") : groups_json);
        for (const auto& g : groups.as_array())
            u.groups.push_back({std::string(g.at("v").as_string()), std::string(g.at("d").as_string())});
        std::sort(u.groups.begin(), u.groups.end(), [](const auto& a, const auto& b) { return a.display < b.display; });
        return u;
    }
};

// The address the user list searches: the primary email, else the first (RFC 7643 §2.4 "primary").
inline std::string primary_email(const schema::user& u) {
    for (const auto& e : u.emails)
        if (e.primary) return e.value;
    return u.emails.empty() ? std::string() : u.emails.front().value;
}

// The writable columns of a user, as bind variables.
struct user_params {
    std::string id, organization_id, user_name, user_name_folded, email_folded, external_id, formatted, family, given, middle,
        prefix, suffix, display, nick, profile_url, title, department, user_type, preferred_language, locale,
        timezone, status, extensions, now;
    int active;

    user_params(const schema::user& u, core::time_point at)
        : id(u.id),
          organization_id(u.organization_id),
          user_name(u.user_name),
          user_name_folded(schema::case_fold(u.user_name)),
          email_folded(schema::case_fold(primary_email(u))),
          external_id(u.external_id),
          formatted(u.name.formatted),
          family(u.name.family_name),
          given(u.name.given_name),
          middle(u.name.middle_name),
          prefix(u.name.honorific_prefix),
          suffix(u.name.honorific_suffix),
          display(u.display_name),
          nick(u.nick_name),
          profile_url(u.profile_url),
          title(u.title),
          department(u.department),
          user_type(u.user_type),
          preferred_language(u.preferred_language),
          locale(u.locale),
          timezone(u.timezone),
          status(schema::to_string(u.status)),
          extensions(u.extensions_json),
          now(ts(at)),
          active(u.active ? 1 : 0) {}

    void bind(bound_statement& st) {
        st.in(id, "id").in(organization_id, "org").in(user_name, "user_name").in(user_name_folded, "folded");
        st.in(email_folded, "email_folded");
        st.in(external_id, "external_id").in(formatted, "formatted").in(family, "family").in(given, "given");
        st.in(middle, "middle").in(prefix, "prefix").in(suffix, "suffix").in(display, "display");
        st.in(nick, "nick").in(profile_url, "profile_url").in(title, "title").in(department, "department");
        st.in(user_type, "user_type").in(preferred_language, "preferred_language").in(locale, "locale");
        st.in(timezone, "timezone").in(status, "status").in(extensions, "extensions").in(now, "now");
        st.in(active, "active");
    }
};

inline constexpr const char* user_set_clause =
    "user_name = :user_name, user_name_folded = :folded, email_folded = :email_folded, external_id = :external_id, formatted_name = :formatted, "
    "family_name = :family, given_name = :given, middle_name = :middle, honorific_prefix = :prefix, "
    "honorific_suffix = :suffix, display_name = :display, nick_name = :nick, profile_url = :profile_url, "
    "title = :title, department = :department, user_type = :user_type, preferred_language = :preferred_language, "
    "locale = :locale, timezone = :timezone, status = :status, extensions = :extensions, active = :active, "
    "updated_at = :now";

// Writes the user's emails (`emails` true) or phone numbers, replacing the stored ones when `replace`.
// Emails carry a folded copy for case-insensitive search; phone numbers do not need one.
inline void write_multi_values(soci::session& sql, const schema::user& u, bool emails, bool replace) {
    std::string user_id = u.id, org = u.organization_id;
    if (replace) {
        bound_statement st(sql);
        st.in(user_id, "id");
        st.defer(emails ? "DELETE FROM user_emails WHERE user_id = :id" : "DELETE FROM user_phone_numbers WHERE user_id = :id");
    }
    int position = 0;
    for (const auto& mv : emails ? u.emails : u.phone_numbers) {
        std::string value = mv.value, folded = schema::case_fold(mv.value), type = mv.type, display = mv.display;
        int primary = mv.primary ? 1 : 0;
        bound_statement st(sql);
        st.in(user_id, "u").in(org, "o").in(position, "p").in(value, "v").in(type, "t").in(display, "d");
        st.in(primary, "pr");
        if (emails) {
            st.in(folded, "f");
            st.defer("INSERT INTO user_emails (user_id, organization_id, position, value, value_folded, type, display, "
                     "is_primary) VALUES (:u, :o, :p, :v, :f, :t, :d, :pr)");
        } else {
            st.defer("INSERT INTO user_phone_numbers (user_id, organization_id, position, value, type, display, "
                     "is_primary) VALUES (:u, :o, :p, :v, :t, :d, :pr)");
        }
        ++position;
    }
}

// ---------------------------------------------------------------------------------------------------
// Transactions. Every SOCI-backed component runs its SQL through one sql_runner.

class sql_runner {
public:
    // `write_transactions`: how many write transactions run at once (SQLite: one writer).
    sql_runner(const dialect& d, std::unique_ptr<session_pool> pool, const core::clock& clock,
               std::size_t write_transactions = 1)
        : d_(d),
          pool_(std::move(pool)),
          clock_(clock),
          write_steps_(d.id == dialect::kind::postgres
                           ? std::unique_ptr<batch_transaction>(new postgres_transaction(std::string(d.begin_write)))
                           : std::unique_ptr<batch_transaction>(new sqlite_transaction(std::string(d.begin_write)))),
          writes_(*pool_, *write_steps_, d.id == dialect::kind::postgres ? write_transactions : 1),
          user_select_(user_select_list(d)) {}

    const dialect& sql_dialect() const { return d_; }
    const core::clock& clock() const { return clock_; }
    bool postgres() const { return d_.id == dialect::kind::postgres; }
    // The user columns (against `users u`) with emails, phone numbers and groups as JSON.
    const std::string& user_select() const { return user_select_; }

    // -- users, inside a caller's transaction ------------------------------------------------------

    // Inserts `u` (id, created and version already assigned) with its emails and phone numbers.
    // `local_only`: made by local user management, not by an identity provider (SCIM clients do not see it
    // until a connection is bound to it: migration 9).
    enum class origin { identity_provider, local_user_management };
    static void insert_user(soci::session& sql, const schema::user& u, const std::string* password_hash = nullptr,
                            origin from = origin::identity_provider) {
        user_params p(u, u.created);
        std::string hash = password_hash ? *password_hash : std::string();
        soci::indicator hash_ind = password_hash ? soci::i_ok : soci::i_null;
        int local_only = from == origin::local_user_management ? 1 : 0;
        bound_statement b(sql);
        p.bind(b);
        b.in(hash, hash_ind, "password_hash");
        b.in(local_only, "local_only");
        b.defer(
            "INSERT INTO users (id, organization_id, user_name, user_name_folded, email_folded, external_id, "
            "formatted_name, "
            "family_name, given_name, middle_name, honorific_prefix, honorific_suffix, display_name, nick_name, "
            "profile_url, title, department, user_type, preferred_language, locale, timezone, status, "
            "extensions, active, password_hash, local_only, created_at, updated_at, version) VALUES (:id, :org, "
            ":user_name, :folded, :email_folded, :external_id, :formatted, :family, :given, :middle, :prefix, :suffix, "
            ":display, :nick, :profile_url, :title, :department, :user_type, :preferred_language, :locale, :timezone, "
            ":status, :extensions, :active, :password_hash, :local_only, :now, :now, 1)");
        write_multi_values(sql, u, true, false);
        write_multi_values(sql, u, false, false);
        if (u.status != schema::user_status::active) write_inactive_status(sql, u);
    }

    // Keeps inactive_users (migration 10) equal to users.status: a row for every user whose status is not
    // active, none for an active one. Only called when the status is new or changed.
    static void write_inactive_status(soci::session& sql, const schema::user& u) {
        std::string id = u.id, org = u.organization_id, status(schema::to_string(u.status)), created = ts(u.created);
        bound_statement st(sql);
        st.in(id, "id");
        if (u.status == schema::user_status::active) {
            st.defer("DELETE FROM inactive_users WHERE user_id = :id");
            return;
        }
        st.in(org, "org").in(status, "status").in(created, "created");
        st.defer("INSERT INTO inactive_users (user_id, organization_id, status, created_at) VALUES (:id, :org, "
                 ":status, :created) ON CONFLICT (user_id) DO UPDATE SET status = excluded.status");
    }

    // `row_locked`: `before` was read with the row locked in this transaction (load_user's for_update on
    // PostgreSQL, or SQLite's single writer), so its version cannot have moved: the UPDATE is sent with
    // the commit instead of waiting for its row count.
    result<schema::user> store_user_update(soci::session& sql, const schema::user& before, const schema::user& u,
                                           const actor& by, bool row_locked = false) {
        schema::user after = u;
        after.created = before.created;
        after.last_login = before.last_login;
        after.updated = clock_.now();
        after.version = before.version + 1;
        user_params p(after, after.updated);
        long long expected = before.version;
        bound_statement st(sql);
        p.bind(st);
        st.in(expected, "expected");
        const std::string update = std::string("UPDATE users SET ") + user_set_clause +
                                   ", version = version + 1 WHERE organization_id = :org AND id = :id AND version = :expected";
        if (row_locked) {
            st.defer(update);
        } else {
            st.run(update);
            // Unless the row was locked, PostgreSQL's read committed lets a concurrent writer commit
            // between our read and this update: the version predicate is the real compare-and-swap.
            if (st.affected_rows() != 1) return errc::version_mismatch;
        }
        // Only what changed: a PATCH of `active` rewrites neither (two statements and their round trips
        // fewer).
        if (after.emails != before.emails) write_multi_values(sql, after, true, true);
        if (after.phone_numbers != before.phone_numbers) write_multi_values(sql, after, false, true);
        if (after.status != before.status) write_inactive_status(sql, after);
        if (!by.connection_id.empty()) bind_identity(sql, after.organization_id, by.connection_id, scim_subject(after), after.id);
        queue_user(sql, after.id);
        if (before.active && !after.active) {
            // Deprovisioning must end access now, not when a session expires: the IdP's next sync
            // may be 40 minutes away (INTEROP §2.7).
            std::string id = after.id;
            bound_statement end_sessions(sql);
            end_sessions.in(id, "id");
            end_sessions.defer("DELETE FROM sessions WHERE user_id = :id");
        }
        record(sql, after.organization_id, by, "user.update", "user", after.id, after.user_name,
               schema::describe_user_changes(before, after), "user.updated", schema::summarize_user(after));
        return after;
    }

    // `directory`: as SCIM clients see users, without local-only accounts (migration 9).
    enum class scope { every_account, directory };
    static std::string lock_user_query(const char* column) {
        return "SELECT id FROM users WHERE organization_id = :org AND " + std::string(column) + " = :k FOR UPDATE";
    }
    std::string user_read_query(const char* column, scope among) const {
        return "SELECT " + user_select_ + " FROM users u WHERE u.organization_id = :org AND u." + column + " = :k" +
               (among == scope::directory ? " AND u.local_only = 0" : "");
    }
    result<schema::user> load_user(soci::session& sql, std::string_view organization_id, const char* column,
                                   std::string_view key, bool for_update = false, scope among = scope::every_account) {
        std::string org{organization_id}, k{key};
        if (for_update) {
            // Lock first, read after. In PostgreSQL's read committed, a SELECT ... FOR UPDATE that waits
            // for a concurrent writer re-reads the locked row but evaluates its subqueries (the emails
            // and phone numbers) on its older snapshot; a separate statement after the lock sees all.
            // On PostgreSQL the lock needs no answer of its own: it travels in the same pipeline as the read
            // below (and the BEGIN before it), which runs after it and finds no row where it found none.
            std::string id;
            bound_statement lock(sql);
            lock.in(org, "org").in(k, "k");
            const std::string query = lock_user_query(column);
            if (postgres()) {
                lock.defer(query);
            } else {
                lock.out(id);
                if (!lock.run(query)) return errc::not_found;
            }
        }
        user_row row;
        bound_statement st(sql);
        row.bind(st);
        st.in(org, "org").in(k, "k");
        if (!st.run(user_read_query(column, among))) return errc::not_found;
        return row.to_user();
    }

    // PostgreSQL, in a write that will call load_user(sql, org, column, key, for_update = true): queues
    // that call's lock and read to be sent ahead with the other writes of its batch (write_batch.hpp).
    void read_user_ahead(soci::session& sql, std::string_view organization_id, const char* column,
                         std::string_view key) {
        std::string org{organization_id}, k{key};
        bound_statement lock(sql);
        lock.in(org, "org").in(k, "k");
        lock.read_ahead(lock_user_query(column));
        bound_statement read(sql);
        read.in(org, "org").in(k, "k");
        read.read_ahead(user_read_query(column, scope::every_account));
    }

    // -- roles and the organisation's owner invariant, inside a caller's transaction ------------------

    // PostgreSQL: serialises writers that check the owner invariant (SQLite's writer is alone anyway).
    void lock_organization(soci::session& sql, std::string_view organization_id) {
        if (!postgres()) return;
        std::string org{organization_id}, id;
        sql << "SELECT id FROM organizations WHERE id = :org FOR UPDATE", use(org, "org"), into(id);
    }

    // Active super_admins of the organisation other than `except`.
    static long long count_owners(soci::session& sql, std::string_view organization_id, std::string_view except) {
        std::string org{organization_id}, ex{except};
        long long n = 0;
        sql << "SELECT COUNT(*) FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE "
               "ra.organization_id = :org AND ra.role_id = 'system:super_admin' AND u.id <> :ex AND u.status <> "
               "'disabled'",
            use(org, "org"), use(ex, "ex"), into(n);
        return n;
    }

    static bool is_owner(soci::session& sql, std::string_view user_id) {
        std::string id{user_id};
        long long n = 0;
        sql << "SELECT COUNT(*) FROM role_assignments WHERE user_id = :id AND role_id = 'system:super_admin'",
            use(id, "id"), into(n);
        return n > 0;
    }

    // Replaces the user's system role. `source` is 'local' or the IdP connection whose rule `rule` gave it.
    void assign_system_role(soci::session& sql, const std::string& organization_id, const std::string& user_id,
                            schema::system_role role, const std::string& source = "local",
                            const std::string& rule = "") {
        std::string org = organization_id, id = user_id, rid = "system:" + std::string(schema::to_string(role)),
                    now = ts(clock_.now()), src = source, r = rule;
        sql << "DELETE FROM role_assignments WHERE user_id = :id AND is_system = 1", use(id, "id");
        sql << "INSERT INTO role_assignments (organization_id, user_id, role_id, scope_id, is_system, source, rule, "
               "created_at) VALUES (:org, :id, :rid, '', 1, :src, :rule, :now)",
            use(org, "org"), use(id, "id"), use(rid, "rid"), use(src, "src"), use(r, "rule"), use(now, "now");
        // The same role on the user row, where the user list filters on it with an index.
        std::string name{schema::to_string(role)};
        sql << "UPDATE users SET system_role = :r WHERE id = :id", use(name, "r"), use(id, "id");
    }

    // -- identity bindings and the re-evaluation queue, inside a caller's transaction --------------

    // The subject a SCIM client's user is bound by: its externalId (Okta's user id, or what Entra is
    // configured to send, ideally the objectId), else our own id, which the client holds.
    static std::string scim_subject(const schema::user& u) {
        return u.external_id.empty() ? "user:" + u.id : u.external_id;
    }

    // Binds the user by `subject` on the connection, replacing the user's earlier subject there. A subject
    // bound to another user is a unique violation (the caller's errc::already_exists).
    void bind_identity(soci::session& sql, const std::string& organization_id, const std::string& connection_id,
                       const std::string& subject, const std::string& user_id) {
        std::string org = organization_id, conn = connection_id, sub = subject, uid = user_id, now = ts(clock_.now());
        bound_statement st(sql);
        st.in(conn, "c").in(uid, "u").in(sub, "s").in(now, "now");
        // A write through the connection makes the stored user its latest word: a sign-in identity kept
        // from before no longer applies (the sign-in sets its own after this).
        st.run("UPDATE identity_bindings SET last_seen_at = :now, identity = NULL WHERE connection_id = :c AND "
               "user_id = :u AND subject = :s");
        if (st.affected_rows() == 1) return;
        sql << "DELETE FROM identity_bindings WHERE connection_id = :c AND user_id = :u", use(conn, "c"), use(uid, "u");
        // Bound to an identity provider, a local account joins the directory SCIM clients see.
        sql << "UPDATE users SET local_only = 0 WHERE id = :u AND local_only = 1", use(uid, "u");
        sql << "INSERT INTO identity_bindings (connection_id, subject, user_id, organization_id, created_at, "
               "last_seen_at) VALUES (:c, :s, :u, :org, :now, :now)",
            use(conn, "c"), use(sub, "s"), use(uid, "u"), use(org, "org"), use(now, "now");
    }

    // Queues a re-evaluation of the user for every connection it is bound to. A user queued already
    // keeps its place and gets a new ticket, so an evaluation in progress does not retire the request.
    void queue_user(soci::session& sql, const std::string& user_id) {
        queue_bound("b.user_id = :k", user_id, sql);
    }
    // ... for every bound member of the group (a rename changes what group conditions see).
    void queue_group_members(soci::session& sql, const std::string& group_id) {
        queue_bound("b.user_id IN (SELECT m.user_id FROM group_members m WHERE m.group_id = :k)", group_id, sql);
    }
    void queue_connection_users(soci::session& sql, const std::string& connection_id) {
        queue_bound("b.connection_id = :k", connection_id, sql);
    }

    // -- audit + change feed, inside the writer's transaction --------------------------------------

    void record(soci::session& sql, const std::string& organization_id, const actor& by, std::string_view action,
                std::string_view target_type, const std::string& target_id, const std::string& target_display,
                const std::string& details_json, std::string_view event_type, const std::string& payload_json) {
        std::string org = organization_id, at = ts(clock_.now()), act{action}, ttype{target_type}, tid = target_id,
                    tdisplay = target_display, details = details_json, akind = by.kind, aid = by.id,
                    adisplay = by.display, addr = by.client_address, rid = by.request_id;
        static constexpr const char* audit_insert =
            "INSERT INTO audit_records (organization_id, at, actor_kind, actor_id, actor_display, client_address, "
            "request_id, action, target_type, target_id, target_display, details) VALUES (:org, :at, :akind, :aid, "
            ":adisplay, :addr, :rid, :act, :ttype, :tid, :tdisplay, :details)";
        // No sequence in the event: numbering in the writer would serialise an organisation's writers
        // through their commits. The relay numbers the event once it is committed (sequence_changes).
        static constexpr const char* event_insert =
            "INSERT INTO change_events (organization_id, at, type, resource_type, resource_id, payload) "
            "VALUES (:org, :at, :type, :ttype, :tid, :payload)";
        std::string etype{event_type}, payload = payload_json;
        bound_statement st(sql);
        st.in(org, "org").in(at, "at").in(akind, "akind").in(aid, "aid").in(adisplay, "adisplay");
        st.in(addr, "addr").in(rid, "rid").in(act, "act").in(ttype, "ttype").in(tid, "tid");
        st.in(tdisplay, "tdisplay").in(details, "details");
        // An empty event type: an audit record only (something happened, nothing in the directory changed).
        if (event_type.empty()) {
            st.defer(audit_insert);
        } else if (postgres()) {
            // Both rows in one statement, sent with the commit. (SQLite has no data-modifying WITH, and
            // no round trips to save.)
            st.in(etype, "type").in(payload, "payload");
            st.defer(std::string("WITH audit AS (") + audit_insert + ") " + event_insert);
        } else {
            st.run(audit_insert);
            bound_statement event(sql);
            event.in(org, "org").in(at, "at").in(etype, "type").in(ttype, "ttype").in(tid, "tid").in(payload, "payload");
            event.run(event_insert);
        }
    }

    void queue_bound(const char* condition, const std::string& key, soci::session& sql) {
        std::string k = key, ticket = core::new_uuid(), now = ts(clock_.now());
        bound_statement st(sql);
        st.in(k, "k").in(ticket, "t").in(now, "now");
        st.defer(std::string("INSERT INTO mapping_pending (user_id, connection_id, organization_id, ticket, queued_at) "
                             "SELECT b.user_id, b.connection_id, b.organization_id, :t, :now FROM identity_bindings b "
                             "WHERE ") +
                 condition + " ON CONFLICT (user_id, connection_id) DO UPDATE SET ticket = excluded.ticket");
    }

    // -- connection and transaction plumbing -------------------------------------------------------

    static int database_version(soci::session& sql) {
        int version = 0;
        soci::indicator ind = soci::i_ok;
        sql << "SELECT MAX(version) FROM schema_migrations", into(version, ind);
        return ind == soci::i_null ? 0 : version;
    }

    bool migrations_table_exists(soci::session& sql) const {
        long long n = 0;
        if (d_.id == dialect::kind::postgres)
            sql << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                   "AND table_name = 'schema_migrations'",
                into(n);
        else
            sql << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", into(n);
        return n > 0;
    }

    // Runs `body` in a write transaction holding the migration lock; commits if it returns true.
    template <typename F>
    bool locked(soci::session& sql, F&& body) {
        sql << d_.begin_write;
        try {
            if (d_.id == dialect::kind::postgres) sql << "SELECT pg_advisory_xact_lock(7461636769)";
            const bool changed = body();
            sql << (changed ? "COMMIT" : "ROLLBACK");
            return changed;
        } catch (...) {
            try {
                sql << "ROLLBACK";
            } catch (...) {
            }
            throw;
        }
    }

    static std::string too_new_message(int database) {
        return "the database schema is at version " + std::to_string(database) +
               ", newer than this idgate binary knows (" + std::to_string(latest_migration_version()) +
               "): it was migrated by a newer release. Run that release, or restore a backup taken before "
               "the upgrade.";
    }

    // Runs `body` on a leased connection without an explicit transaction.
    template <typename F>
    auto read_only(F&& body) -> decltype(body(std::declval<soci::session&>())) {
        auto lease = pool_->acquire();
        try {
            return body(*lease);
        } catch (const soci::soci_error& e) {
            const failure f = classify(e);
            if (f == failure::connection) lease.mark_broken();
            throw_infrastructure(e, f);
        }
    }

    // Runs a multi-statement read in one snapshot, so a user and its emails are read consistently.
    template <typename F>
    auto read_snapshot(F&& body) -> decltype(body(std::declval<soci::session&>())) {
        return read_only([&](soci::session& sql) { return read_snapshot_on(sql, body); });
    }

    // The same on a connection the caller already leased (outside any transaction).
    template <typename F>
    auto read_snapshot_on(soci::session& sql, F&& body) -> decltype(body(std::declval<soci::session&>())) {
        sql << (d_.id == dialect::kind::postgres ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
        try {
            auto r = body(sql);
            sql << "COMMIT";
            return r;
        } catch (...) {
            try {
                sql << "ROLLBACK";
            } catch (...) {
            }
            throw;
        }
    }

    // Runs `body` in a write transaction. A unique violation becomes errc::already_exists and a foreign
    // key violation errc::not_found; busy/serialization failures are retried a few times with backoff.
    // An error result rolls the write back, so a failed call never leaves a partial write. Writes that
    // wait at the same moment share a transaction and its commit (write_batch.hpp): on SQLite all of
    // them, on PostgreSQL those beyond the concurrent write transactions.
    //
    // `read_key` and `read_ahead` (PostgreSQL): the rows `body` reads first, and a function that queues
    // those reads, so that a batch of such writes sends all their reads in one round trip (write_batch.hpp).
    // Writes with the same key never read ahead together.
    template <typename T, typename F>
    result<T> write(F&& body, std::string read_key = {},
                    const std::function<void(soci::session&)>& read_ahead = {}) {
        struct state {
            F* body;
            bool postgres;
            std::optional<result<T>> outcome;
            const std::function<void(soci::session&)>* ahead;
        } s{&body, postgres(), std::nullopt, &read_ahead};
        write_batcher::job j;
        j.state = &s;
        if (s.postgres && read_ahead && !read_key.empty()) {
            j.read_key = std::move(read_key);
            j.read_ahead = [](void* p, soci::session& sql) { (*static_cast<state*>(p)->ahead)(sql); };
        }
        j.run = [](void* p, soci::session& sql, bool shared) -> bool {
            auto& st = *static_cast<state*>(p);
            st.outcome.reset();
            try {
                st.outcome.emplace((*st.body)(sql));
                return st.outcome->has_value();
            } catch (const soci::soci_error& e) {
                // On PostgreSQL an error aborts the whole transaction, and with several writes in its
                // pipeline it may be another's: the batch runs again, each write alone.
                if (!(shared && st.postgres) && own_outcome(st.outcome, e)) return false;
                throw transaction_failure(e);
            }
        };
        if (s.postgres)
            // Alone in its transaction, a write's deferred statements fail only when the COMMIT sends them.
            j.settle = [](void* p, const soci::soci_error& e) -> bool {
                return own_outcome(static_cast<state*>(p)->outcome, e);
            };
        writes_.run(j);
        return std::move(*s.outcome);
    }

    const dialect& d_;
protected:
    std::unique_ptr<session_pool> pool_;
    const core::clock& clock_;
    const std::unique_ptr<batch_transaction> write_steps_;
    write_batcher writes_;
    const std::string user_select_;  // user columns plus emails and phone numbers as JSON
};

}  // namespace idgate::store::detail
