// SPDX-License-Identifier: AGPL-3.0-or-later
// The ceiling for SCIM `POST /Users` on SQLite: raw single-row INSERT transactions through the SQLite C
// API, with idgate's settings (WAL, synchronous=FULL) and a table with the user columns and the same
// unique index, statement prepared once. SQLite has one writer at a time, so one writer is the ceiling.
//   sqlite_insert_bench DB_PATH SECONDS   -> "rate=N p99_ms=X"
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
void check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: sqlite_insert_bench DB_PATH SECONDS\n");
        return 2;
    }
    sqlite3* db = nullptr;
    check(sqlite3_open(argv[1], &db), db, "open");
    for (const char* sql : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                            "CREATE TABLE raw_users (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, user_name TEXT "
                            "NOT NULL, user_name_folded TEXT NOT NULL, given_name TEXT NOT NULL, family_name TEXT NOT "
                            "NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1)",
                            "CREATE UNIQUE INDEX raw_users_name ON raw_users (organization_id, user_name_folded)"})
        check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
    sqlite3_stmt* insert = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO raw_users (id, organization_id, user_name, user_name_folded, given_name, "
                             "family_name, created_at, updated_at) VALUES (?1, 'org', ?2, ?2, 'Given', 'Family', "
                             "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z') RETURNING id",
                             -1, &insert, nullptr),
          db, "prepare");
    const auto seconds = std::chrono::seconds(std::atoi(argv[2]));
    const auto start = std::chrono::steady_clock::now();
    std::vector<double> latencies;
    for (long n = 0;; ++n) {
        const auto t0 = std::chrono::steady_clock::now();
        if (t0 - start >= seconds) break;
        const std::string id = "id-" + std::to_string(n), name = "user-" + std::to_string(n) + "@example.com";
        sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, name.c_str(), -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(insert)) == SQLITE_ROW) {
        }
        check(rc, db, "insert");
        sqlite3_reset(insert);
        latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    const double p99 = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
    std::printf("rate=%.1f p99_ms=%.2f\n", static_cast<double>(latencies.size()) / elapsed, p99);
    sqlite3_finalize(insert);
    sqlite3_close(db);
}
