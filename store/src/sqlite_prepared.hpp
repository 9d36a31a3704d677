// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// SQLite statements prepared once per connection.
//
// Why: SOCI prepares a one-time statement on every execution, and for idgate's writes SQLite's
// preparation (tokenising, resolving every column and index of the table, generating the program) costs
// about as much as running them: an INSERT into users touches a dozen indexes. SQLite has one writer, so
// that cost sits on the path every write waits for (write_batch.hpp). bound_statement therefore hands its
// bindings to sqlite_statement on SQLite, which keeps each distinct SQL text prepared on its connection
// (a bounded cache; the pool finalises it before the connection closes) and binds values by type.
// Errors are thrown as soci::sqlite3_soci_error with SQLite's result code, so the store's error
// classification is the same on both paths. Internal to store/src.
#include <soci/soci-backend.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// SOCI wraps SQLite's C API in this namespace (soci-sqlite3.h); the handles are declared to match.
namespace sqlite_api {
struct sqlite3;
struct sqlite3_stmt;
}  // namespace sqlite_api

namespace soci {
class session;
}

namespace idgate::store::detail {

// The database handle under a SOCI SQLite session, or nullptr for any other backend.
sqlite_api::sqlite3* sqlite_connection(soci::session& sql);
// Finalises the statements cached for `sql`'s connection: call before the session closes (SQLite
// refuses to close a connection that still has statements).
void sqlite_forget_statements(soci::session& sql);

class sqlite_statement {
public:
    explicit sqlite_statement(sqlite_api::sqlite3* db) : db_(db) {}
    ~sqlite_statement();
    sqlite_statement(const sqlite_statement&) = delete;
    sqlite_statement& operator=(const sqlite_statement&) = delete;

    // A value bound by its C++ type: text, integer or real.
    enum class kind { text, integer, real };
    using get_integer_fn = long long (*)(const void* value);
    void add_param(const char* name, const void* value, const soci::indicator* ind, kind k, get_integer_fn integer_of);
    using set_integer_fn = void (*)(void* target, long long value);
    void add_column(void* target, soci::indicator* ind, kind k, set_integer_fn store_integer);

    // Executes `query` (`:name` placeholders, which SQLite reads itself) and fetches the first row into
    // the columns; returns whether there was one.
    bool run(const std::string& query);
    bool next();
    long long affected_rows() const { return changes_; }

    template <typename T>
    static constexpr kind kind_of() {
        using V = std::remove_cv_t<T>;
        if constexpr (std::is_same_v<V, std::string>) return kind::text;
        else if constexpr (std::is_integral_v<V>) return kind::integer;
        else if constexpr (std::is_same_v<V, double>) return kind::real;
        else static_assert(sizeof(T) == 0, "bound_statement: no SQLite binding for this type");
    }

    template <typename T>
    static get_integer_fn integer_getter() {
        if constexpr (std::is_integral_v<T>) return &get_integer<T>;
        else return nullptr;
    }
    template <typename T>
    static set_integer_fn integer_setter() {
        if constexpr (std::is_integral_v<T>) return &set_integer<T>;
        else return nullptr;
    }

private:
    template <typename T>
    static long long get_integer(const void* value) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(long long)) {
            if (!std::in_range<long long>(*static_cast<const T*>(value))) throw_out_of_range(-1);
        }
        return static_cast<long long>(*static_cast<const T*>(value));
    }
    template <typename T>
    static void set_integer(void* target, long long value) {
        // A value the target cannot hold is an error, never a silently wrapped number.
        if constexpr (std::is_same_v<T, bool>) {
            if (value != 0 && value != 1) throw_out_of_range(value);
            *static_cast<bool*>(target) = value == 1;
        } else {
            if (!std::in_range<T>(value)) throw_out_of_range(value);
            *static_cast<T*>(target) = static_cast<T>(value);
        }
    }
    [[noreturn]] static void throw_out_of_range(long long value);

    struct param {
        std::string name;  // with its ':' (SQLite's parameter names include the prefix)
        const void* value;
        const soci::indicator* ind;
        kind k;
        get_integer_fn get_integer;
    };
    struct column {
        void* target;
        soci::indicator* ind;
        kind k;
        set_integer_fn set_integer;  // integer columns: stores the value in the target's type
    };
    bool step();
    void read_row();
    [[noreturn]] void fail(int rc, const std::string& what) const;

    sqlite_api::sqlite3* db_;
    sqlite_api::sqlite3_stmt* stmt_ = nullptr;
    bool owned_ = false;  // prepared for this use only (the cached one was busy): finalise it
    std::vector<param> params_;
    std::vector<column> columns_;
    long long changes_ = 0;
};

}  // namespace idgate::store::detail
