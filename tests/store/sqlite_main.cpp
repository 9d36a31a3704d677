// SPDX-License-Identifier: AGPL-3.0-or-later
#define BOOST_TEST_MODULE store conformance (SQLite)
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "backend_context.hpp"
#include "core/crypto.hpp"

namespace idgate::test {
namespace {

class sqlite_context final : public backend_context {
public:
    sqlite_context() : dir_(std::filesystem::temp_directory_path() / ("idgate-store-" + core::new_uuid())) {
        std::filesystem::create_directories(dir_);
    }
    ~sqlite_context() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::unique_ptr<store::store> open_fresh(const core::clock& clock) override {
        path_ = (dir_ / (core::new_uuid() + ".db")).string();
        return open_again(clock);
    }
    std::unique_ptr<store::store> open_again(const core::clock& clock) override {
        return store::open_sqlite({path_, 10000, 4}, clock);
    }
    std::string connection() const override { return path_; }
    void execute(const std::string& sql) override {
        soci::session s(*soci::factory_sqlite3(), "db=" + path_);
        s << sql;
    }
    long long count(const std::string& sql) override {
        soci::session s(*soci::factory_sqlite3(), "db=" + path_);
        long long n = 0;
        s << sql, soci::into(n);
        return n;
    }

private:
    std::filesystem::path dir_;
    std::string path_;
};

}  // namespace

backend_context& context() {
    static sqlite_context instance;
    return instance;
}

}  // namespace idgate::test
