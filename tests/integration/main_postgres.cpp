// SPDX-License-Identifier: AGPL-3.0-or-later
// Integration tests against PostgreSQL: each gateway process gets a database of its own on the server
// named by IDGATE_TEST_PG. Without it: skipped (exit 77), or a failure under IDGATE_REQUIRE_PG=1.
#define BOOST_TEST_MODULE integration (PostgreSQL)
#define BOOST_TEST_NO_MAIN
#include <libpq-fe.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

#include "core/crypto.hpp"
#include "gateway_process.hpp"
#include "postgres_required.hpp"

namespace idgate::test {
namespace {

void admin_exec(const std::string& sql) {
    PGconn* conn = PQconnectdb(postgres_admin_connection().c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        const std::string error = PQerrorMessage(conn);
        PQfinish(conn);
        throw std::runtime_error("cannot connect to IDGATE_TEST_PG: " + error);
    }
    PGresult* res = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    const std::string error = PQerrorMessage(conn);
    PQclear(res);
    PQfinish(conn);
    if (!ok) throw std::runtime_error(sql + ": " + error);
}

struct databases {
    std::mutex mutex;
    std::vector<std::string> names;
    ~databases() {
        for (const auto& n : names) {
            try {
                admin_exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)");
            } catch (const std::exception& e) {
                std::cerr << e.what() << "\n";
            }
        }
    }
} created;

}  // namespace

backend_choice integration_backend(const std::filesystem::path& dir) {
    std::string name = "idgate_it_" + dir.filename().string();
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    // UTF-8 whatever the cluster's default (a fresh initdb without a locale gives SQL_ASCII).
    admin_exec("CREATE DATABASE " + name + " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    {
        std::lock_guard lock(created.mutex);
        created.names.push_back(name);
    }
    // PostgreSQL has no default key file (every node must hold the same keys): one per gateway here, at
    // the path SQLite would default to, so tests can rotate it the same way on both backends.
    const auto key_file = dir / "idgate.key";
    std::ofstream(key_file) << core::secret_box::new_key_text() << "\n";
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return {"storage:\n  type: postgres\n  postgres:\n    connection: \"" + postgres_admin_connection() + " dbname=" + name +
            "\"\n    pool_size: 8\n"
            // Two pipelined read connections, not the default one: reads spread over connections, and
            // one lost while the other answers, are the cases worth exercising.
            "    pipelined_read_connections: 2\nencryption:\n  key_file: " + key_file.string() + "\n"};
}

}  // namespace idgate::test

int main(int argc, char* argv[]) { return idgate::test::run_if_postgres(argc, argv); }
