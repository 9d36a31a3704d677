// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The route table and the request pipeline. routes.cpp is the only file that knows URLs; handlers are
// plain functions from core::request to core::response and never re-check what the router enforces
// (authentication, body limits, where the handler runs).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/http.hpp"
#include "schema/model.hpp"
#include "store/errc.hpp"
#include "store/store.hpp"

namespace idgate::gateway {

enum class auth_policy {
    none,            // public: health, metrics, discovery
    instance_admin,  // a bearer token of kind instance_admin
    scim_client,     // a SCIM bearer token; it names the one organisation it may act on
    session,         // a signed-in user: session cookie or `Bearer idg_sess_...`
};

enum class error_style {
    json,  // {"error": {"status", "code", "message"}, "request_id"}
    scim,  // RFC 7644 §3.12, application/scim+json
};

enum class execution {
    io_thread,  // cheap and non-blocking: runs inline on the I/O thread
    blocking,   // touches the database or other blocking code: runs on the blocking pool
    // A handler that never blocks behind an authentication that may: inline when the caller is known
    // without blocking (a cached token), else on the blocking pool (SCIM discovery endpoints).
    io_thread_when_authenticated,
};

struct route_options {
    auth_policy auth = auth_policy::none;
    error_style errors = error_style::json;
    execution where = execution::blocking;
    std::size_t body_limit = 0;  // 0: the server's configured default
};

using handler = std::function<core::response(core::request&)>;

// A route whose answer rests on one user read by a unique key (SCIM GET /Users/{id}, the `userName eq`
// existence check) may say so in two halves: the server then reads that user without a blocking
// thread when it can (store/user_reader.hpp) and answers on the I/O thread; otherwise the route's
// handler runs on the blocking pool as usual. Both halves throw core::http_error like handlers.
struct one_user_read {
    // Which user; nullopt when this request is not a one-user read (the handler answers it).
    std::function<std::optional<store::user_key>(core::request&)> key;
    // The response, given the user that was read (or errc::not_found).
    std::function<core::response(core::request&, store::result<schema::user>&&)> answer;
};

struct route {
    core::method verb;
    std::string pattern;  // "/api/v1/organizations/{org}"
    std::string name;     // "GET /api/v1/organizations/{org}": the metrics label
    route_options options;
    handler fn;
    std::optional<one_user_read> user_read;  // see one_user_read
    std::size_t index = 0;  // position in the table, for per-route metrics
    std::vector<std::string> segments;
};

// Resolves the caller for a route's auth policy, or throws core::http_error (401).
using authenticator = std::function<core::principal(const core::request&, auth_policy)>;
// The same without blocking: nullopt when that would need the database.
using quick_authenticator = std::function<std::optional<core::principal>(const core::request&, auth_policy)>;

class router {
public:
    void add(core::method verb, std::string pattern, route_options options, handler fn,
             std::optional<one_user_read> user_read = std::nullopt);

    struct match {
        const route* found = nullptr;  // null: see `status`
        int status = 200;              // 404 no such path, 405 path exists with other methods
        std::string allow;             // for 405: the methods that path accepts
        std::vector<std::pair<std::string, std::string>> params;
    };
    match find(core::method verb, std::string_view path) const;

    const std::vector<std::unique_ptr<route>>& routes() const { return routes_; }

    void set_authenticator(authenticator a, quick_authenticator quick = {}) {
        authenticate_ = std::move(a);
        authenticate_quickly_ = std::move(quick);
    }

    // Authenticates, runs the handler and renders any error. Never throws.
    core::response dispatch(const route& r, core::request& req) const;
    // For io_thread_when_authenticated routes on the I/O thread: dispatches when the caller is known
    // without blocking; otherwise returns nullopt and the request goes to the blocking pool.
    std::optional<core::response> dispatch_without_blocking(const route& r, core::request& req) const;

    // For routes with a one_user_read, on the I/O thread. Never throw. plan_user_read authenticates
    // without blocking and asks for the key: a user_key to read, a response (an error for the client),
    // or nothing when the request must take the blocking path (caller unknown without the database,
    // or not a one-user read). answer_user_read renders what was read.
    using user_read_plan = std::variant<std::monostate, core::response, store::user_key>;
    user_read_plan plan_user_read(const route& r, core::request& req) const;
    core::response answer_user_read(const route& r, core::request& req, store::result<schema::user>&& found) const;

private:
    std::vector<std::unique_ptr<route>> routes_;
    authenticator authenticate_;
    quick_authenticator authenticate_quickly_;
};

// The single place that turns an error into a response body (RFC 7644 §3.12 for SCIM routes). Logs
// `internal` detail: at debug for 4xx, at warn for 5xx.
core::response render_error(const core::http_error& e, error_style style, const std::string& request_id);

// The response for an exception that was not an http_error: a generic 500 (or 503 when storage is
// unavailable). The exception text is logged, never sent.
core::response render_unexpected(std::exception_ptr e, error_style style, const std::string& request_id);

}  // namespace idgate::gateway
