// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sqlite_prepared.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace idgate::store::detail {

using namespace sqlite_api;

namespace {

// Distinct SQL texts kept prepared per connection: idgate's fixed statements number about a hundred;
// SCIM filters make more shapes, which is what the bound is for.
constexpr std::size_t cache_capacity = 256;

struct cached {
    sqlite3_stmt* stmt;
    std::list<std::string>::iterator recency;
};

struct connection_cache {
    std::unordered_map<std::string, cached> by_query;
    std::list<std::string> recency;  // most recent first; holds the keys of by_query
    connection_cache() = default;
    connection_cache(const connection_cache&) = delete;
    connection_cache& operator=(const connection_cache&) = delete;
    ~connection_cache() {
        for (auto& entry : by_query) sqlite3_finalize(entry.second.stmt);
    }
};

// SQLite has no per-connection slot with a destructor in Debian 12's release (3.40), so the caches
// are found by handle. A connection is used by one thread at a time (the pool's lease), so only the
// registry itself needs the lock.
std::mutex registry_mutex;
std::unordered_map<sqlite3*, std::unique_ptr<connection_cache>>& registry() {
    static std::unordered_map<sqlite3*, std::unique_ptr<connection_cache>> caches;
    return caches;
}

connection_cache& cache_of(sqlite3* db) {
    std::lock_guard lock(registry_mutex);
    auto& slot = registry()[db];
    if (!slot) slot = std::make_unique<connection_cache>();
    return *slot;
}

}  // namespace

sqlite3* sqlite_connection(soci::session& sql) {
    // Debian's SOCI exports no type information for its backends, so no dynamic_cast: ask for the name.
    auto* backend = sql.get_backend();
    if (!backend || backend->get_backend_name() != "sqlite3") return nullptr;
    return static_cast<soci::sqlite3_session_backend*>(backend)->conn_;
}

void sqlite_forget_statements(soci::session& sql) {
    sqlite3* db = sqlite_connection(sql);
    if (!db) return;
    std::unique_ptr<connection_cache> cache;
    {
        std::lock_guard lock(registry_mutex);
        auto found = registry().find(db);
        if (found == registry().end()) return;
        cache = std::move(found->second);
        registry().erase(found);
    }
}

void sqlite_statement::throw_out_of_range(long long value) {
    throw soci::soci_error("the database holds an integer out of range for its column: " + std::to_string(value));
}

sqlite_statement::~sqlite_statement() {
    if (!stmt_) return;
    if (owned_) {
        sqlite3_finalize(stmt_);
    } else {
        // Back to the cache: no longer running (a read statement left mid-rows would keep its read
        // transaction open) and holding no pointers to the caller's values.
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

void sqlite_statement::add_param(const char* name, const void* value, const soci::indicator* ind, kind k,
                                 get_integer_fn integer_of) {
    params_.push_back({std::string(":") + name, value, ind, k, integer_of});
}

void sqlite_statement::add_column(void* target, soci::indicator* ind, kind k, set_integer_fn store_integer) {
    columns_.push_back({target, ind, k, store_integer});
}

void sqlite_statement::fail(int rc, const std::string& what) const {
    throw soci::sqlite3_soci_error(what + ": " + sqlite3_errmsg(db_), rc);
}

bool sqlite_statement::run(const std::string& query) {
    auto& cache = cache_of(db_);
    auto found = cache.by_query.find(query);
    if (found != cache.by_query.end() && !sqlite3_stmt_busy(found->second.stmt)) {
        cache.recency.splice(cache.recency.begin(), cache.recency, found->second.recency);
        stmt_ = found->second.stmt;
    } else {
        sqlite3_stmt* made = nullptr;
        const int rc = sqlite3_prepare_v2(db_, query.c_str(), static_cast<int>(query.size()), &made, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(made);
            fail(rc, "cannot prepare statement");
        }
        if (found != cache.by_query.end()) {
            // The cached one is running further up this connection's stack (rows still being read).
            stmt_ = made;
            owned_ = true;
        } else {
            if (cache.by_query.size() >= cache_capacity) {
                const auto oldest = cache.by_query.find(cache.recency.back());
                if (!sqlite3_stmt_busy(oldest->second.stmt)) {
                    sqlite3_finalize(oldest->second.stmt);
                    cache.by_query.erase(oldest);
                    cache.recency.pop_back();
                }
            }
            cache.recency.push_front(query);
            cache.by_query.emplace(query, cached{made, cache.recency.begin()});
            stmt_ = made;
        }
    }

    // Every placeholder must get a value: SQLite would run an unbound one as NULL, silently.
    const int count = sqlite3_bind_parameter_count(stmt_);
    std::vector<bool> bound(static_cast<std::size_t>(count) + 1, false);
    for (const auto& p : params_) {
        const int index = sqlite3_bind_parameter_index(stmt_, p.name.c_str());
        if (index == 0) continue;  // bound but not used by this text (shared binding helpers)
        int rc;
        if (p.ind && *p.ind == soci::i_null) {
            rc = sqlite3_bind_null(stmt_, index);
        } else if (p.k == kind::text) {
            const auto& text = *static_cast<const std::string*>(p.value);
            rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        } else if (p.k == kind::integer) {
            rc = sqlite3_bind_int64(stmt_, index, p.get_integer(p.value));
        } else {
            rc = sqlite3_bind_double(stmt_, index, *static_cast<const double*>(p.value));
        }
        if (rc != SQLITE_OK) fail(rc, "cannot bind " + p.name);
        bound[static_cast<std::size_t>(index)] = true;
    }
    for (int i = 1; i <= count; ++i)
        if (!bound[static_cast<std::size_t>(i)]) {
            const char* name = sqlite3_bind_parameter_name(stmt_, i);
            throw soci::soci_error(std::string("no value bound for ") + (name ? name : "a placeholder") +
                                   " in: " + query);
        }
    const bool row = step();
    changes_ = sqlite3_changes(db_);
    return row;
}

bool sqlite_statement::next() { return step(); }

bool sqlite_statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        read_row();
        return true;
    }
    if (rc == SQLITE_DONE) return false;
    // sqlite3_step's result after a failure is the generic one; the extended code is the connection's.
    const int code = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw soci::sqlite3_soci_error("sqlite3_statement_backend::loadOne: " + message, code);
}

void sqlite_statement::read_row() {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto& c = columns_[i];
        const int index = static_cast<int>(i);
        if (sqlite3_column_type(stmt_, index) == SQLITE_NULL) {
            if (!c.ind) throw soci::soci_error("Null value fetched and no indicator defined.");
            *c.ind = soci::i_null;
            continue;
        }
        if (c.ind) *c.ind = soci::i_ok;
        if (c.k == kind::text) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
            static_cast<std::string*>(c.target)->assign(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
        } else if (c.k == kind::integer) {
            c.set_integer(c.target, sqlite3_column_int64(stmt_, index));
        } else {
            *static_cast<double*>(c.target) = sqlite3_column_double(stmt_, index);
        }
    }
}

}  // namespace idgate::store::detail
