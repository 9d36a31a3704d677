// SPDX-License-Identifier: AGPL-3.0-or-later
#include <algorithm>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "soci_store.hpp"
#include "sqlite_prepared.hpp"

namespace idgate::store {

using detail::session_pool;

namespace {

// `keep_at_least`: an in-memory SQLite database lives as long as its one connection, which never closes.
session_pool::idle_policy idle_policy(const pool_options& pool, std::size_t keep_at_least = 0) {
    return {std::chrono::seconds(std::max(1, pool.idle_seconds)),
            std::max(static_cast<std::size_t>(std::max(1, pool.keep_open)), keep_at_least)};
}

}  // namespace

std::unique_ptr<store> open_sqlite(const sqlite_options& options, const core::clock& clock, pool_options pool) {
    const bool memory = options.path == ":memory:";
    // Every connection to ":memory:" is a different database, so an in-memory store has one connection.
    const std::size_t size = memory ? 1 : static_cast<std::size_t>(std::max(1, options.pool_size));
    auto connect = [options]() -> std::unique_ptr<soci::session> {
        try {
            auto s = std::make_unique<soci::session>(*soci::factory_sqlite3(), "db=" + options.path);
            *s << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms);
            *s << "PRAGMA foreign_keys = ON";
            // LIKE is case-sensitive on PostgreSQL; make SQLite agree, so that SCIM co/sw/ew mean the
            // same on both (case-insensitive attributes are compared on folded values instead).
            *s << "PRAGMA case_sensitive_like = ON";
            // WAL lets readers proceed during a write; synchronous=FULL makes each commit durable
            // before we acknowledge it (NORMAL could lose the last commits on power failure).
            *s << "PRAGMA journal_mode = WAL";
            *s << "PRAGMA synchronous = FULL";
            // Statement journals (a write inside a group commit's savepoint) stay in memory instead
            // of a temporary file created and unlinked for every write.
            *s << "PRAGMA temp_store = MEMORY";
            return s;
        } catch (const soci::soci_error& e) {
            throw unavailable("cannot open SQLite database '" + options.path + "': " + e.get_error_message());
        }
    };
    return detail::make_soci_store(
        detail::sqlite_dialect,
        std::make_unique<session_pool>(size, connect, std::chrono::milliseconds(pool.acquire_timeout_ms),
                                       &detail::sqlite_forget_statements, idle_policy(pool, memory ? size : 0)),
        1, clock);
}

std::unique_ptr<store> open_postgres(const postgres_options& options, const core::clock& clock,
                                     pool_options pool) {
    auto connect = [options]() -> std::unique_ptr<soci::session> {
        try {
            return std::make_unique<soci::session>(*soci::factory_postgresql(), options.connection);
        } catch (const soci::soci_error& e) {
            // The message may echo connection parameters; libpq does not print passwords.
            throw unavailable("cannot connect to PostgreSQL: " + e.get_error_message());
        }
    };
    return detail::make_soci_store(detail::postgres_dialect,
                                   std::make_unique<session_pool>(static_cast<std::size_t>(std::max(1, options.pool_size)),
                                                                  connect,
                                                                  std::chrono::milliseconds(pool.acquire_timeout_ms),
                                                                  nullptr, idle_policy(pool)),
                                   static_cast<std::size_t>(std::clamp(options.write_transactions, 1, std::max(1, options.pool_size))),
                                   clock);
}

}  // namespace idgate::store
