// SPDX-License-Identifier: AGPL-3.0-or-later
// store::user_reader on PostgreSQL: libpq in non-blocking pipeline mode (libpq §34.5).
#include <libpq-fe.h>

#include <deque>

#include "sql_runner.hpp"
#include "store/user_reader.hpp"

namespace idgate::store {
namespace {

using detail::user_row;

// The statements are prepared once, when the connection opens, under these names.
constexpr const char* by_id_statement = "idgate_read_user_by_id";
constexpr const char* by_user_name_statement = "idgate_read_user_by_user_name";

struct connection_deleter {
    void operator()(PGconn* c) const { PQfinish(c); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_deleter>;

struct result_deleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

class pg_user_reader final : public user_reader {
public:
    explicit pg_user_reader(connection_ptr conn) : conn_(std::move(conn)) {}

    int socket() const override { return PQsocket(conn_.get()); }
    bool healthy() const override { return healthy_; }
    const std::string& problem() const override { return problem_; }
    std::size_t in_flight() const override { return reads_; }

    bool submit(const user_key& key) override {
        if (!healthy_) return false;
        const std::string folded = key.by == user_key::kind::user_name ? schema::case_fold(key.value) : std::string();
        const char* values[2] = {key.organization_id.c_str(),
                                 key.by == user_key::kind::user_name ? folded.c_str() : key.value.c_str()};
        const char* statement = key.by == user_key::kind::id ? by_id_statement : by_user_name_statement;
        if (PQsendQueryPrepared(conn_.get(), statement, 2, values, nullptr, nullptr, 0) != 1) {
            broken("cannot queue a read");
            return false;
        }
        in_flight_.push_back({});
        ++reads_;
        ++unsynced_;
        return true;
    }

    bool send() override {
        if (!healthy_) return false;
        if (unsynced_ > 0) {
            // One Sync per batch: the server answers the batch's reads in one go, and an error in one
            // of them aborts only the rest of this batch (each then finishes without an outcome).
            if (PQpipelineSync(conn_.get()) != 1) {
                broken("cannot end a batch");
                return false;
            }
            in_flight_.push_back({.sync = true, .answer = std::nullopt});
            unsynced_ = 0;
        }
        const int flushed = PQflush(conn_.get());
        if (flushed < 0) broken("cannot send");
        return flushed == 0;
    }

    void receive(const std::function<void(outcome&&)>& finished) override {
        if (!healthy_) return;
        if (PQconsumeInput(conn_.get()) != 1 || PQstatus(conn_.get()) == CONNECTION_BAD) {
            broken("connection lost");
            fail_in_flight(finished);
            return;
        }
        while (!in_flight_.empty() && healthy_) {
            // Busy: the rest of the current answer has not arrived yet.
            if (PQisBusy(conn_.get())) break;
            result_ptr r{PQgetResult(conn_.get())};
            entry& front = in_flight_.front();
            if (front.sync) {
                // Answers of a batch end with its Sync (no null result follows it).
                if (!r || PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC) {
                    broken("answers out of step with the reads");
                    break;
                }
                in_flight_.pop_front();
                continue;
            }
            if (!r) {
                // A null result ends each read's answer.
                outcome done = std::move(front.answer);
                in_flight_.pop_front();
                --reads_;
                finished(std::move(done));
                continue;
            }
            front.answer = answer_of(r.get());
        }
        if (!healthy_) fail_in_flight(finished);
    }

private:
    struct entry {
        bool sync = false;
        outcome answer;  // nullopt until the read's result arrived, or when it cannot be used
    };

    outcome answer_of(const PGresult* r) {
        switch (PQresultStatus(r)) {
            case PGRES_TUPLES_OK:
                if (PQntuples(r) == 0) return result<schema::user>(errc::not_found);
                try {
                    user_row row;
                    detail::pg_columns columns;
                    row.bind(columns);
                    columns.read(r, 0);
                    return result<schema::user>(row.to_user());
                } catch (const std::exception&) {
                    return std::nullopt;  // the blocking read of the same row reports it properly
                }
            case PGRES_PIPELINE_ABORTED:
                return std::nullopt;  // an earlier read of the batch failed; this one never ran
            default: {
                // The blocking read of the same user reports a real failure as usual. The server lost
                // the prepared statements (26000, after DISCARD ALL), or the session is ending (class 08
                // connection exception, 57P01-57P03 shutdown): start over on a new connection.
                const std::string_view state = PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "";
                if (state == "26000" || state.substr(0, 2) == "08" || state.substr(0, 4) == "57P0")
                    broken(PQresultErrorMessage(r));
                return std::nullopt;
            }
        }
    }

    void broken(std::string why) {
        if (!healthy_) return;
        healthy_ = false;
        const char* libpq = PQerrorMessage(conn_.get());
        problem_ = std::move(why) + (libpq && *libpq ? std::string(": ") + libpq : std::string());
        while (!problem_.empty() && (problem_.back() == '\n' || problem_.back() == ' ')) problem_.pop_back();
    }

    void fail_in_flight(const std::function<void(outcome&&)>& finished) {
        auto failed = std::move(in_flight_);
        in_flight_.clear();
        reads_ = 0;
        unsynced_ = 0;
        for (auto& e : failed)
            if (!e.sync) finished(std::nullopt);
    }

    connection_ptr conn_;
    std::deque<entry> in_flight_;  // reads and Syncs sent or queued, in the order the server answers them
    std::size_t reads_ = 0;
    std::size_t unsynced_ = 0;  // reads queued since the last Sync
    bool healthy_ = true;
    std::string problem_;  // why it is no longer healthy
};

}  // namespace

std::unique_ptr<user_reader> open_user_reader(const postgres_options& options) {
    // The configured connection string, named so that the reads' session is recognisable in
    // pg_stat_activity (expand_dbname: `dbname` carries the whole string; later keywords override it).
    const char* keywords[] = {"dbname", "application_name", nullptr};
    const char* values[] = {options.connection.c_str(), "idgate pipelined reads", nullptr};
    connection_ptr conn{PQconnectdbParams(keywords, values, 1)};
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
        throw unavailable("cannot connect to PostgreSQL for pipelined reads: " +
                          std::string(conn ? PQerrorMessage(conn.get()) : "out of memory"));
    const std::string select = "SELECT " + detail::user_select_list(detail::postgres_dialect) + " FROM users u ";
    // What store::read_user reads: the directory, without local-only accounts.
    for (const auto& [name, where] :
         {std::pair{by_id_statement, "WHERE u.organization_id = $1 AND u.id = $2 AND u.local_only = 0"},
          std::pair{by_user_name_statement, "WHERE u.organization_id = $1 AND u.user_name_folded = $2 AND u.local_only = 0"}}) {
        result_ptr made{PQprepare(conn.get(), name, (select + where).c_str(), 2, nullptr)};
        if (PQresultStatus(made.get()) != PGRES_COMMAND_OK)
            throw unavailable("cannot prepare the pipelined reads: " + std::string(PQresultErrorMessage(made.get())));
    }
    if (PQsetnonblocking(conn.get(), 1) != 0 || PQenterPipelineMode(conn.get()) != 1)
        throw unavailable("cannot put the PostgreSQL connection into pipeline mode: " +
                          std::string(PQerrorMessage(conn.get())));
    return std::make_unique<pg_user_reader>(std::move(conn));
}

}  // namespace idgate::store
