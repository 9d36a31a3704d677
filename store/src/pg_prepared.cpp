// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pg_prepared.hpp"

#include <libpq-events.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <charconv>
#include <cstdlib>
#include <list>
#include <unordered_map>

namespace idgate::store::detail {

namespace {

// Distinct SQL texts kept prepared per connection. idgate's fixed statements number about a hundred;
// SCIM filters make more shapes, which is what the bound is for.
constexpr std::size_t prepared_capacity = 256;

struct prepared {
    std::string name;
    std::vector<std::string> parameter_names;  // in $n order
    std::list<std::string>::iterator recency;
};

// A deferred statement: a prepared one by name with its values, or (no name) a parameterless text.
struct queued {
    std::string name;
    std::string text;
    std::vector<std::string> values;
    std::vector<bool> nulls;
    bool keep = false;  // read ahead: its result is kept for the statement that asks for it later
};

// A result read ahead, waiting for the statement with the same name and values (pg_statement::read_ahead).
struct kept_result {
    std::string name;
    std::vector<std::string> values;
    std::vector<bool> nulls;
    PGresult* result;
};

struct connection_cache {
    std::unordered_map<std::string, prepared> by_query;
    std::list<std::string> recency;  // most recent first; holds the keys of by_query
    unsigned long long next_id = 0;
    std::vector<queued> pending;  // deferred statements, in order
    std::vector<kept_result> ahead;  // results read ahead in the open transaction
    void forget_ahead() {
        for (auto& k : ahead) PQclear(k.result);
        ahead.clear();
    }
    // The result read ahead for this statement and values, taken out of the list (nullptr: none).
    PGresult* take_ahead(const std::string& name, const std::vector<const char*>& values) {
        for (auto it = ahead.begin(); it != ahead.end(); ++it) {
            if (it->name != name || it->values.size() != values.size()) continue;
            bool same = true;
            for (std::size_t i = 0; same && i < values.size(); ++i)
                same = values[i] ? !it->nulls[i] && it->values[i] == values[i] : bool(it->nulls[i]);
            if (!same) continue;
            PGresult* r = it->result;
            ahead.erase(it);
            return r;
        }
        return nullptr;
    }
    void clear() {
        by_query.clear();
        recency.clear();
        pending.clear();
        forget_ahead();
    }
    ~connection_cache() { forget_ahead(); }
};

int cache_events(PGEventId event, void* info, void*) {
    if (event == PGEVT_CONNDESTROY) {
        auto* destroyed = static_cast<PGEventConnDestroy*>(info);
        delete static_cast<connection_cache*>(PQinstanceData(destroyed->conn, cache_events));
    } else if (event == PGEVT_CONNRESET) {
        // A reset connection is a new server session: nothing is prepared there any more.
        auto* reset = static_cast<PGEventConnReset*>(info);
        if (auto* cache = static_cast<connection_cache*>(PQinstanceData(reset->conn, cache_events))) cache->clear();
    }
    return 1;
}

connection_cache& cache_of(PGconn* conn) {
    if (auto* cache = static_cast<connection_cache*>(PQinstanceData(conn, cache_events))) return *cache;
    if (!PQregisterEventProc(conn, cache_events, "idgate prepared statements", nullptr))
        throw soci::soci_error("cannot attach the prepared statement cache to the PostgreSQL connection");
    auto* cache = new connection_cache;
    PQsetInstanceData(conn, cache_events, cache);
    return *cache;
}

// SOCI's `:name` placeholders to PostgreSQL's `$n`, outside string literals, quoted identifiers and
// `::` casts; a name used twice is one parameter.
std::string number_placeholders(const std::string& query, std::vector<std::string>& names) {
    std::string out;
    out.reserve(query.size());
    const auto is_name_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    for (std::size_t i = 0; i < query.size();) {
        const char c = query[i];
        if (c == '\'' || c == '"') {
            const std::size_t end = query.find(c, i + 1);
            const std::size_t stop = end == std::string::npos ? query.size() : end + 1;
            out.append(query, i, stop - i);
            i = stop;
        } else if (c == ':' && i + 1 < query.size() && query[i + 1] == ':') {
            out += "::";
            i += 2;
        } else if (c == ':' && i + 1 < query.size() && is_name_char(query[i + 1])) {
            std::size_t end = i + 1;
            while (end < query.size() && is_name_char(query[end])) ++end;
            std::string name = query.substr(i + 1, end - i - 1);
            std::size_t position = 0;
            while (position < names.size() && names[position] != name) ++position;
            if (position == names.size()) names.push_back(std::move(name));
            out += '$';
            out += std::to_string(position + 1);
            i = end;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

[[noreturn]] void throw_result_error(PGconn* conn, const PGresult* result, const char* what) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = result ? PQresultErrorMessage(result) : "";
    if (message.empty()) message = PQerrorMessage(conn);
    // No SQLSTATE and a dead connection: report it as connection_failure so that the pool reconnects.
    if (!state) state = PQstatus(conn) == CONNECTION_BAD ? "08006" : "XX000";
    throw soci::postgresql_soci_error(std::string(what) + ": " + message, state);
}

// Defined below: the queued statements, then optionally one more whose result is returned, in one round trip.
PGresult* run_pipeline(PGconn* conn, connection_cache& cache, const queued* last);

struct result_guard {
    PGresult* r;
    ~result_guard() { PQclear(r); }
};

}  // namespace

PGconn* postgres_connection(soci::session& sql) {
    // Debian's SOCI exports no type information for its backends, so no dynamic_cast: ask for the name.
    auto* backend = sql.get_backend();
    if (!backend || backend->get_backend_name() != "postgresql") return nullptr;
    return static_cast<soci::postgresql_session_backend*>(backend)->conn_;
}

pg_statement::~pg_statement() { PQclear(result_); }

void pg_statement::add_param(const char* name, const void* value, const soci::indicator* ind, to_text_fn to_text) {
    params_.push_back({name, value, ind, to_text});
}

void pg_statement::add_column(void* target, soci::indicator* ind, from_text_fn from_text) {
    columns_.add(target, ind, from_text);
}

struct pg_statement::prepared_ref {
    connection_cache* cache;
    std::unordered_map<std::string, prepared>::iterator entry;
};

pg_statement::prepared_ref pg_statement::statement_for(const std::string& query) {
    auto& cache = cache_of(conn_);
    auto found = cache.by_query.find(query);
    if (found != cache.by_query.end()) {
        cache.recency.splice(cache.recency.begin(), cache.recency, found->second.recency);
        return {&cache, found};
    }
    prepared entry;
    const std::string text = number_placeholders(query, entry.parameter_names);
    // Deferred statements name theirs: nothing is deallocated while some wait (the bound is exceeded
    // by at most one transaction's statements meanwhile).
    if (cache.by_query.size() >= prepared_capacity && cache.pending.empty() &&
        PQtransactionStatus(conn_) != PQTRANS_INERROR) {
        // DEALLOCATE is not transactional; in a failed transaction it would fail, so wait.
        const auto oldest = cache.by_query.find(cache.recency.back());
        result_guard dropped{PQexec(conn_, ("DEALLOCATE " + oldest->second.name).c_str())};
        if (PQresultStatus(dropped.r) != PGRES_COMMAND_OK) throw_result_error(conn_, dropped.r, "deallocate");
        cache.by_query.erase(oldest);
        cache.recency.pop_back();
    }
    entry.name = "idgate_" + std::to_string(++cache.next_id);
    // PREPARE changes no data: it may run while deferred statements wait.
    result_guard made{PQprepare(conn_, entry.name.c_str(), text.c_str(), 0, nullptr)};
    if (PQresultStatus(made.r) != PGRES_COMMAND_OK) throw_result_error(conn_, made.r, "prepare");
    cache.recency.push_front(query);
    entry.recency = cache.recency.begin();
    return {&cache, cache.by_query.emplace(query, std::move(entry)).first};
}

// Values in $n order; text form, nullptr for an i_null indicator. Strings are passed without a copy.
void pg_statement::values_for(const prepared_ref& statement, std::vector<std::string>& texts,
                              std::vector<const char*>& values) const {
    const auto& names = statement.entry->second.parameter_names;
    texts.assign(names.size(), std::string());
    values.assign(names.size(), nullptr);
    for (std::size_t i = 0; i < names.size(); ++i) {
        const param* p = nullptr;
        for (const auto& candidate : params_)
            if (names[i] == candidate.name) {
                p = &candidate;
                break;
            }
        if (!p) throw soci::soci_error("Missing use element for bind by name (" + names[i] + ")");
        if (p->ind && *p->ind == soci::i_null) continue;
        if (p->to_text == text_of_string) {
            values[i] = static_cast<const std::string*>(p->value)->c_str();
        } else {
            p->to_text(p->value, texts[i]);
            values[i] = texts[i].c_str();
        }
    }
}

void pg_statement::defer(const std::string& query) { queue(query, false); }

void pg_statement::read_ahead(const std::string& query) { queue(query, true); }

void pg_statement::queue(const std::string& query, bool keep) {
    const auto statement = statement_for(query);
    std::vector<std::string> texts;
    std::vector<const char*> values;
    values_for(statement, texts, values);
    // Already run ahead in this transaction (a row lock): nothing more to send.
    if (!keep) {
        if (PGresult* done = statement.cache->take_ahead(statement.entry->second.name, values)) {
            PQclear(done);
            return;
        }
    }
    queued q;
    q.keep = keep;
    q.name = statement.entry->second.name;
    q.values.reserve(values.size());
    q.nulls.reserve(values.size());
    for (const char* v : values) {
        q.nulls.push_back(v == nullptr);
        q.values.emplace_back(v ? v : "");
    }
    statement.cache->pending.push_back(std::move(q));
}

bool pg_statement::run(const std::string& query) {
    const auto statement = statement_for(query);
    std::vector<std::string> texts;
    std::vector<const char*> values;
    values_for(statement, texts, values);
    auto& cache = *statement.cache;
    auto found = statement.entry;

    PQclear(result_);
    result_ = nullptr;
    if (PGresult* ahead = cache.take_ahead(found->second.name, values)) {
        // Read ahead with the batch's other reads (write_batch.hpp): what waits stays queued.
        result_ = ahead;
    } else if (!cache.pending.empty()) {
        // What waits (a BEGIN, deferred writes) goes first, in the same round trip as this statement.
        queued self;
        self.name = found->second.name;
        for (const char* v : values) {
            self.nulls.push_back(v == nullptr);
            self.values.emplace_back(v ? v : "");
        }
        result_ = run_pipeline(conn_, cache, &self);
        if (!result_) throw soci::postgresql_soci_error("execute: the pipeline returned no result", "XX000");
    } else {
        result_ = PQexecPrepared(conn_, found->second.name.c_str(), static_cast<int>(values.size()), values.data(),
                                 nullptr, nullptr, 0);
    }
    const auto status = PQresultStatus(result_);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        const char* state = PQresultErrorField(result_, PG_DIAG_SQLSTATE);
        // The server no longer knows the statement (DISCARD ALL, or a schema change that changes its
        // result type): forget it here so that the next execution prepares it again.
        if (state && (std::string_view(state) == "26000" || std::string_view(state) == "0A000")) {
            cache.recency.erase(found->second.recency);
            cache.by_query.erase(found);
        }
        throw_result_error(conn_, result_, "execute");
    }
    row_ = 0;
    if (status != PGRES_TUPLES_OK || PQntuples(result_) == 0) return false;
    fetch_row();
    return true;
}

void pg_queue_simple(PGconn* conn, const std::string& sql) {
    queued q;
    q.text = sql;
    cache_of(conn).pending.push_back(std::move(q));
}

bool pg_pending(PGconn* conn) { return !cache_of(conn).pending.empty(); }

void pg_discard(PGconn* conn) {
    auto& cache = cache_of(conn);
    cache.pending.clear();
    cache.forget_ahead();
}

void pg_forget_ahead(PGconn* conn) { cache_of(conn).forget_ahead(); }

bool pg_in_transaction(PGconn* conn) {
    const auto status = PQtransactionStatus(conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

namespace {

// Sends the queued statements and `last` (if any) as one pipeline; returns `last`'s result (the caller
// clears it), throws the first failure.
PGresult* run_pipeline(PGconn* conn, connection_cache& cache, const queued* last) {
    std::vector<queued> items = std::move(cache.pending);
    cache.pending.clear();
    if (last) items.push_back(*last);
    if (PQenterPipelineMode(conn) != 1) throw_result_error(conn, nullptr, "pipeline");
    // Send everything, then one sync: the server runs the statements in order and, after a failure,
    // skips the rest up to the sync (libpq "Pipeline Mode", error handling).
    std::size_t sent = 0;
    bool send_failed = false;
    for (const auto& q : items) {
        int ok = 0;
        if (q.name.empty()) {
            ok = PQsendQueryParams(conn, q.text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
        } else {
            std::vector<const char*> values(q.values.size());
            for (std::size_t i = 0; i < values.size(); ++i) values[i] = q.nulls[i] ? nullptr : q.values[i].c_str();
            ok = PQsendQueryPrepared(conn, q.name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                     nullptr, 0);
        }
        if (!ok) {
            send_failed = true;
            break;
        }
        ++sent;
    }
    if (send_failed || PQpipelineSync(conn) != 1) {
        // The connection is broken (nothing else makes a send fail): report it as such.
        const std::string message = PQerrorMessage(conn);
        throw soci::postgresql_soci_error("pipeline: " + message, "08006");
    }
    std::string failure_state, failure_message;
    PGresult* kept = nullptr;
    for (std::size_t i = 0; i < sent; ++i) {
        // Each statement's result, then a null that ends it.
        PGresult* r = PQgetResult(conn);
        if (!r) break;
        const auto status = PQresultStatus(r);
        if (last && i + 1 == items.size() && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)) {
            kept = r;
            r = nullptr;
        } else if (items[i].keep && status == PGRES_TUPLES_OK) {
            cache.ahead.push_back({items[i].name, std::move(items[i].values), std::move(items[i].nulls), r});
            r = nullptr;
        }
        if (status == PGRES_FATAL_ERROR && failure_state.empty()) {
            const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            failure_state = state ? state : (PQstatus(conn) == CONNECTION_BAD ? "08006" : "XX000");
            failure_message = PQresultErrorMessage(r);
            if (failure_state == "26000" || failure_state == "0A000") {
                // See run(): forget the statement the server no longer has.
                for (auto it = cache.by_query.begin(); it != cache.by_query.end(); ++it)
                    if (it->second.name == items[i].name) {
                        cache.recency.erase(it->second.recency);
                        cache.by_query.erase(it);
                        break;
                    }
            }
        }
        if (r) PQclear(r);
        while ((r = PQgetResult(conn)) != nullptr) PQclear(r);
    }
    // The sync's own result.
    while (PGresult* r = PQgetResult(conn)) {
        const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) break;
    }
    if (PQexitPipelineMode(conn) != 1 && failure_state.empty()) {
        failure_state = "08006";
        failure_message = PQerrorMessage(conn);
    }
    if (!failure_state.empty()) {
        PQclear(kept);
        throw soci::postgresql_soci_error("execute: " + failure_message, failure_state.c_str());
    }
    return kept;
}

}  // namespace

void pg_flush(PGconn* conn) {
    auto& cache = cache_of(conn);
    if (cache.pending.empty()) return;
    PQclear(run_pipeline(conn, cache, nullptr));
}

bool pg_statement::next() {
    if (!result_ || row_ + 1 >= PQntuples(result_)) return false;
    ++row_;
    fetch_row();
    return true;
}

long long pg_statement::affected_rows() const {
    if (!result_) return 0;
    const char* text = PQcmdTuples(result_);
    return *text ? std::atoll(text) : 0;
}

void pg_statement::fetch_row() { columns_.read(result_, row_); }

void pg_columns::read(const PGresult* result, int row) const {
    if (static_cast<int>(columns_.size()) > PQnfields(result))
        throw soci::soci_error("the statement returns fewer columns than it binds");
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto& c = columns_[i];
        const int field = static_cast<int>(i);
        if (PQgetisnull(result, row, field)) {
            if (!c.ind) throw soci::soci_error("Null value fetched and no indicator defined.");
            *c.ind = soci::i_null;
            continue;
        }
        if (c.ind) *c.ind = soci::i_ok;
        c.from_text(PQgetvalue(result, row, field), static_cast<std::size_t>(PQgetlength(result, row, field)),
                    c.target);
    }
}

void text_of_string(const void* value, std::string& out) { out = *static_cast<const std::string*>(value); }

void string_from_text(const char* text, std::size_t size, void* target) {
    static_cast<std::string*>(target)->assign(text, size);
}

void text_of_double(const void* value, std::string& out) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, *static_cast<const double*>(value)).ptr;
    out.assign(buffer, end);
}

void double_from_text(const char* text, std::size_t size, void* target) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text, text + size, v);
    if (ec != std::errc() || end != text + size) throw soci::soci_error("Cannot convert data: '" + std::string(text) + "'");
    *static_cast<double*>(target) = v;
}

void throw_bad_integer(const char* text) {
    throw soci::soci_error("Cannot convert data: '" + std::string(text) + "' is not an integer");
}

}  // namespace idgate::store::detail
