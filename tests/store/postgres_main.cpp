// SPDX-License-Identifier: AGPL-3.0-or-later
// The PostgreSQL run of the conformance suite. It needs a server: IDGATE_TEST_PG is a libpq connection
// string to a database where the user may CREATE DATABASE. Each test gets a database of its own
// (dropped afterwards), so suites can run in parallel. Without IDGATE_TEST_PG the run reports
// *skipped* (exit 77) -- unless IDGATE_REQUIRE_PG=1, as in the README's test command and CI, where a
// missing server is a failure.
#define BOOST_TEST_MODULE store conformance (PostgreSQL)
#define BOOST_TEST_NO_MAIN
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <vector>

#include "backend_context.hpp"
#include "core/crypto.hpp"

namespace idgate::test {
namespace {

std::string admin_connection() {
    const char* c = std::getenv("IDGATE_TEST_PG");
    return c ? c : "";
}

class postgres_context final : public backend_context {
public:
    ~postgres_context() override {
        try {
            soci::session admin(*soci::factory_postgresql(), admin_connection());
            for (const auto& db : created_) admin << "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)";
        } catch (const std::exception& e) {
            std::cerr << "could not drop test databases: " << e.what() << "\n";
        }
    }
    std::unique_ptr<store::store> open_fresh(const core::clock& clock) override {
        std::string name = "idgate_test_" + core::new_uuid();
        for (char& c : name)
            if (c == '-') c = '_';
        {
            soci::session admin(*soci::factory_postgresql(), admin_connection());
            admin << "CREATE DATABASE " + name;
        }
        std::lock_guard lock(mutex_);
        created_.push_back(name);
        // In a libpq connection string a later keyword overrides an earlier one.
        connection_ = admin_connection() + " dbname=" + name;
        return open_again(clock);
    }
    std::unique_ptr<store::store> open_again(const core::clock& clock) override {
        return store::open_postgres({connection_, 8}, clock);
    }
    void execute(const std::string& sql) override {
        soci::session s(*soci::factory_postgresql(), connection_);
        s << sql;
    }
    long long count(const std::string& sql) override {
        soci::session s(*soci::factory_postgresql(), connection_);
        long long n = 0;
        s << sql, soci::into(n);
        return n;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> created_;
    std::string connection_;
};

}  // namespace

backend_context& context() {
    static postgres_context instance;
    return instance;
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
