// SPDX-License-Identifier: AGPL-3.0-or-later
// The PostgreSQL run of the conformance suite (see ../support/postgres_required.hpp for when it runs).
// Each test gets a database of its own (dropped afterwards), so suites can run in parallel.
#define BOOST_TEST_MODULE store conformance (PostgreSQL)
#define BOOST_TEST_NO_MAIN
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <vector>

#include "../support/postgres_required.hpp"
#include "backend_context.hpp"
#include "core/crypto.hpp"

namespace idgate::test {
namespace {

class postgres_context final : public backend_context {
public:
    ~postgres_context() override {
        try {
            soci::session admin(*soci::factory_postgresql(), postgres_admin_connection());
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
            soci::session admin(*soci::factory_postgresql(), postgres_admin_connection());
            // UTF-8 whatever the cluster's default (a fresh initdb without a locale gives SQL_ASCII), as a
            // production database is: the reads' tests rely on non-UTF-8 bytes being refused.
            admin << "CREATE DATABASE " + name + " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0";
        }
        std::lock_guard lock(mutex_);
        created_.push_back(name);
        // In a libpq connection string a later keyword overrides an earlier one.
        connection_ = postgres_admin_connection() + " dbname=" + name;
        return open_again(clock);
    }
    std::unique_ptr<store::store> open_again(const core::clock& clock) override {
        return store::open_postgres({connection_, 8}, clock);
    }
    std::string connection() const override { return connection_; }
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

int main(int argc, char* argv[]) { return idgate::test::run_if_postgres(argc, argv); }
