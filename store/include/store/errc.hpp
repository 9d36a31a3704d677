// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Storage outcomes a caller must branch on are error codes in a result; infrastructure failures (the
// database is down, the pool is exhausted, the schema is newer than this binary) are exceptions.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace idgate::store {

enum class errc {
    not_found = 1,     // no such row in this organisation
    already_exists,    // a unique key (userName, slug, token hash...) is taken
    version_mismatch,  // optimistic concurrency: the row changed since the caller read it
    not_supported,     // a query the storage cannot run as asked (see validate())
    last_owner,        // the change would leave the organisation without a super_admin
    expired,           // a one-time link past its expiry
    already_used,      // a one-time link or a TOTP time step that was already used
};

const boost::system::error_category& store_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), store_category()};
}

template <typename T>
using result = boost::system::result<T>;

// The database cannot serve the request right now. Maps to 503 at the HTTP layer.
class unavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The database was migrated by a newer idgate than this binary: refusing to touch it.
class schema_too_new : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace idgate::store

template <>
struct boost::system::is_error_code_enum<idgate::store::errc> : std::true_type {};
