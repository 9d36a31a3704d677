// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What each backend supplies to the shared conformance suite (store_suite.cpp).
#include <memory>
#include <string>

#include "store/store.hpp"

namespace idgate::test {

class backend_context {
public:
    virtual ~backend_context() = default;
    // A brand-new, empty database (not migrated) and a store on it.
    virtual std::unique_ptr<store::store> open_fresh(const core::clock& clock) = 0;
    // A second, independent store on the database of the last open_fresh(): another process.
    virtual std::unique_ptr<store::store> open_again(const core::clock& clock) = 0;
    // Test-only raw SQL against that database (to simulate a newer schema, inspect rows...).
    virtual void execute(const std::string& sql) = 0;
    // How open_again() connects: a libpq connection string (PostgreSQL) or a file path (SQLite).
    virtual std::string connection() const = 0;
    virtual long long count(const std::string& sql) = 0;
};

backend_context& context();

}  // namespace idgate::test
