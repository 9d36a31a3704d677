// SPDX-License-Identifier: AGPL-3.0-or-later
// Integration tests against PostgreSQL: each gateway process gets a database of its own on the server
// named by IDGATE_TEST_PG. Without it: skipped (exit 77), or a failure under IDGATE_REQUIRE_PG=1.
#define BOOST_TEST_MODULE integration (PostgreSQL)
#define BOOST_TEST_NO_MAIN
#include <libpq-fe.h>

#include <boost/test/unit_test.hpp>
#include <iostream>
#include <mutex>

#include "gateway_process.hpp"

namespace idgate::test {
namespace {

std::string admin_connection() {
    const char* c = std::getenv("IDGATE_TEST_PG");
    return c ? c : "";
}

void admin_exec(const std::string& sql) {
    PGconn* conn = PQconnectdb(admin_connection().c_str());
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
    admin_exec("CREATE DATABASE " + name);
    {
        std::lock_guard lock(created.mutex);
        created.names.push_back(name);
    }
    return {"storage:\n  type: postgres\n  postgres:\n    connection: \"" + admin_connection() + " dbname=" + name +
            "\"\n    pool_size: 8\n"};
}

}  // namespace idgate::test

int main(int argc, char* argv[]) {
    if (idgate::test::admin_connection().empty()) {
        const char* require = std::getenv("IDGATE_REQUIRE_PG");
        if (require && std::string(require) == "1") {
            std::cerr << "IDGATE_REQUIRE_PG=1 but IDGATE_TEST_PG is not set: the PostgreSQL tests must run\n";
            return 1;
        }
        std::cerr << "SKIPPED: set IDGATE_TEST_PG to a libpq connection string to run the PostgreSQL tests\n";
        return 77;
    }
    return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
