// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// main() of the PostgreSQL test executables. IDGATE_TEST_PG is a libpq connection string to a server
// where the user may CREATE DATABASE. Without it the run reports *skipped* (exit 77, CTest's
// SKIP_RETURN_CODE) -- unless IDGATE_REQUIRE_PG=1, as in the README's test command and CI, where a
// missing server is a failure: the PostgreSQL tests must run there.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

namespace idgate::test {

inline std::string postgres_admin_connection() {
    const char* c = std::getenv("IDGATE_TEST_PG");
    return c ? c : "";
}

inline int run_if_postgres(int argc, char* argv[]) {
    if (postgres_admin_connection().empty()) {
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

}  // namespace idgate::test
