// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// PostgreSQL statements prepared once per connection and executed by name.
//
// Why: SOCI's PostgreSQL backend runs a one-time statement through PQexecParams (the unnamed statement),
// so PostgreSQL parses and plans every statement on every execution, and its prepared statements are
// deallocated when the soci::statement dies (three round trips for one). For idgate's statements the
// planning is most of the database's work: in a one-off pgbench run (docs/benchmarks.md) the two
// statements of a SCIM `GET /Users/{id}` ran at about 3,600/s in extended mode and 19,000/s prepared.
//
// So on PostgreSQL, bound_statement hands its bindings to pg_statement, which prepares each distinct SQL
// text once per connection (kept in a small LRU attached to the PGconn through libpq's event
// mechanism, so it dies with the connection and starts empty after a reconnect) and runs it with
// PQexecPrepared: one round trip, and no planning once PostgreSQL settles on a generic plan (its plan
// cache tries five custom plans first and keeps planning per execution when the generic plan would
// cost more, as for a LIKE prefix pattern).
// Errors are thrown as soci::postgresql_soci_error with the SQLSTATE, so the store's error
// classification is the same on both paths. Internal to store/src.
//
// Write transactions in one round trip (libpq pipeline mode): a statement whose result the writer does
// not need (an INSERT that either works or fails the transaction) can be deferred: queued on the
// connection with copies of its values and sent later, together with the transaction's BEGIN before it
// and its COMMIT after it, in one pipeline. Anything that needs a result first sends what is queued, in
// order: pg_statement::run, and -- through the query transformation the write scope installs -- any
// SOCI statement. A failure anywhere in the pipeline is thrown like any other (the rest of it is
// skipped by the server), so a deferred statement loses nothing but the round trip.
#include <libpq-fe.h>
#include <soci/soci-backend.h>

#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace soci {
class session;
}

namespace idgate::store::detail {

// The connection under a SOCI PostgreSQL session, or nullptr for any other backend.
PGconn* postgres_connection(soci::session& sql);

// PostgreSQL's text form of a value into a variable of type T (defined at the end of this header).
template <typename T>
void from_text(const char* text, std::size_t size, void* target);

// Result columns bound to variables, in select-list order, filled from one row of a result: a
// prepared statement's (pg_statement) or a pipelined read's (pg_user_reader.cpp).
class pg_columns {
public:
    using from_text_fn = void (*)(const char* text, std::size_t size, void* target);
    void add(void* target, soci::indicator* ind, from_text_fn from_text) { columns_.push_back({target, ind, from_text}); }
    template <typename T>
    pg_columns& out(T& value) {
        add(&value, nullptr, &from_text<T>);
        return *this;
    }
    template <typename T>
    pg_columns& out(T& value, soci::indicator& ind) {
        add(&value, &ind, &from_text<T>);
        return *this;
    }
    // Throws soci::soci_error for a NULL without an indicator, or a value its variable cannot hold.
    void read(const PGresult* result, int row) const;

private:
    struct column {
        void* target;
        soci::indicator* ind;
        from_text_fn from_text;
    };
    std::vector<column> columns_;
};

class pg_statement {
public:
    explicit pg_statement(PGconn* conn) : conn_(conn) {}
    ~pg_statement();
    pg_statement(const pg_statement&) = delete;
    pg_statement& operator=(const pg_statement&) = delete;

    using to_text_fn = void (*)(const void* value, std::string& out);
    using from_text_fn = pg_columns::from_text_fn;

    void add_param(const char* name, const void* value, const soci::indicator* ind, to_text_fn to_text);
    void add_column(void* target, soci::indicator* ind, from_text_fn from_text);

    // Executes `query` (SOCI's `:name` placeholders) and fetches the first row into the columns;
    // returns whether there was one. Sends anything deferred on the connection first.
    bool run(const std::string& query);
    // Queues `query` with copies of its values, to be sent with the next flush (no result, no rows).
    // A statement already read ahead with the same values in this transaction is not sent again.
    void defer(const std::string& query);
    // Queues `query` like defer, but its result is kept: a later run() (or defer()) of the same statement
    // with the same values in this transaction takes it instead of a round trip. Only for reads whose
    // result nothing sent between the two can change: the write batcher reads ahead the rows of writes
    // that touch nothing of each other's (write_batch.hpp).
    void read_ahead(const std::string& query);
    bool next();
    long long affected_rows() const;

private:
    struct param {
        std::string name;  // a copy: callers pass names built on the fly
        const void* value;
        const soci::indicator* ind;
        to_text_fn to_text;
    };
    void fetch_row();
    void queue(const std::string& query, bool keep);
    struct prepared_ref;
    prepared_ref statement_for(const std::string& query);
    void values_for(const prepared_ref& statement, std::vector<std::string>& texts, std::vector<const char*>& values) const;
    [[noreturn]] void fail(const char* what) const;

    PGconn* conn_;
    std::vector<param> params_;
    pg_columns columns_;
    PGresult* result_ = nullptr;
    int row_ = 0;
};

// The deferred statements of a connection (see above). pg_queue_simple queues a statement without
// parameters (BEGIN, COMMIT); pg_flush sends the queue as one pipeline and throws the first failure;
// pg_discard forgets the queue (nothing of it was sent) and the results read ahead.
void pg_queue_simple(PGconn* conn, const std::string& sql);
bool pg_pending(PGconn* conn);
void pg_flush(PGconn* conn);
void pg_discard(PGconn* conn);
// Forgets the results read ahead (pg_statement::read_ahead): at the end of their transaction.
void pg_forget_ahead(PGconn* conn);
// Whether the server has a transaction open on the connection (sent, not yet ended).
bool pg_in_transaction(PGconn* conn);

// Text codecs for the types the store binds (PostgreSQL's text format).
void text_of_string(const void* value, std::string& out);
void string_from_text(const char* text, std::size_t size, void* target);
void double_from_text(const char* text, std::size_t size, void* target);
void text_of_double(const void* value, std::string& out);
[[noreturn]] void throw_bad_integer(const char* text);

template <typename T>
void text_of(const void* value, std::string& out) {
    if constexpr (std::is_integral_v<T>) {
        out = std::to_string(*static_cast<const T*>(value));
    } else if constexpr (std::is_floating_point_v<T>) {
        text_of_double(value, out);
    } else {
        static_assert(sizeof(T) == 0, "bound_statement: no PostgreSQL text codec for this type");
    }
}

// The codec of a parameter type; strings get text_of_string, which run() recognises and passes
// without a copy.
template <typename T>
pg_statement::to_text_fn text_codec() {
    using value_type = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<value_type, std::string>) return &text_of_string;
    else return &text_of<value_type>;
}

template <typename T>
void from_text(const char* text, std::size_t size, void* target) {
    if constexpr (std::is_same_v<T, std::string>) {
        string_from_text(text, size, target);
    } else if constexpr (std::is_integral_v<T>) {
        // PostgreSQL integers in text form: an optional sign and digits.
        const char* p = text;
        const bool negative = size > 0 && *p == '-';
        if (negative) ++p;
        if (p == text + size) throw_bad_integer(text);
        long long v = 0;
        for (; p != text + size; ++p) {
            if (*p < '0' || *p > '9' || v > (std::numeric_limits<long long>::max() - (*p - '0')) / 10)
                throw_bad_integer(text);
            v = v * 10 + (*p - '0');
        }
        if (negative) v = -v;
        // A value the target cannot hold is an error, never a silently wrapped number.
        if (v < 0 ? v < static_cast<long long>(std::numeric_limits<T>::min())
                  : static_cast<unsigned long long>(v) > static_cast<unsigned long long>(std::numeric_limits<T>::max()))
            throw_bad_integer(text);
        *static_cast<T*>(target) = static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
        double d = 0;
        double_from_text(text, size, &d);
        *static_cast<T*>(target) = static_cast<T>(d);
    } else {
        static_assert(sizeof(T) == 0, "bound_statement: no PostgreSQL text codec for this type");
    }
}

}  // namespace idgate::store::detail
