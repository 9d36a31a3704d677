// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/router.hpp"

#include <array>

#include "core/log.hpp"

namespace idgate::gateway {
namespace {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        const auto end = path.find('/', i);
        out.emplace_back(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
        i = end == std::string_view::npos ? path.size() : end;
    }
    return out;
}

bool is_param(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void router::add(core::method verb, std::string pattern, route_options options, handler fn,
                 std::optional<one_user_read> user_read) {
    auto r = std::make_unique<route>();
    r->verb = verb;
    r->name = std::string(core::to_string(verb)) + " " + pattern;
    r->segments = split_path(pattern);
    r->pattern = std::move(pattern);
    r->options = options;
    r->fn = std::move(fn);
    r->user_read = std::move(user_read);
    r->index = routes_.size();
    routes_.push_back(std::move(r));
}

router::match router::find(core::method verb, std::string_view path) const {
    // Split without allocating: this runs for every request.
    constexpr std::size_t max_segments = 32;
    std::array<std::string_view, max_segments> segments;
    std::size_t count = 0;
    match result;
    result.status = 404;
    for (std::size_t i = 0; i < path.size();) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        const auto end = std::min(path.find('/', i), path.size());
        if (count == max_segments) return result;
        segments[count++] = path.substr(i, end - i);
        i = end;
    }
    for (const auto& r : routes_) {
        if (r->segments.size() != count) continue;
        bool ok = true;
        for (std::size_t i = 0; i < count && ok; ++i) ok = is_param(r->segments[i]) || r->segments[i] == segments[i];
        if (!ok) continue;
        if (r->verb == verb || (verb == core::method::head && r->verb == core::method::get)) {
            result.found = r.get();
            result.status = 200;
            for (std::size_t i = 0; i < count; ++i)
                if (is_param(r->segments[i]))
                    result.params.emplace_back(r->segments[i].substr(1, r->segments[i].size() - 2), segments[i]);
            result.allow.clear();
            return result;
        }
        result.status = 405;
        if (!result.allow.empty()) result.allow += ", ";
        result.allow += core::to_string(r->verb);
    }
    return result;
}

namespace {

// Authenticates with `authenticate` (nullopt: not here, the caller tries elsewhere), runs the handler,
// and renders any error in the route's style.
template <typename Authenticate, typename Body>
std::optional<core::response> run_route(const route& r, core::request& req, Authenticate&& authenticate, Body&& body,
                                        bool authenticated_here = true) {
    try {
        if (authenticated_here && r.options.auth != auth_policy::none) {
            auto caller = authenticate();
            if (!caller) return std::nullopt;
            req.caller = std::move(*caller);
        }
        return body(req);
    } catch (const core::http_error& e) {
        return render_error(e, r.options.errors, req.request_id);
    } catch (...) {
        return render_unexpected(std::current_exception(), r.options.errors, req.request_id);
    }
}

}  // namespace

core::response router::dispatch(const route& r, core::request& req) const {
    return *run_route(r, req, [&]() -> std::optional<core::principal> {
        if (!authenticate_) throw core::http_error(500, "internal_error", "no authenticator is configured");
        return authenticate_(req, r.options.auth);
    }, r.fn);
}

std::optional<core::response> router::dispatch_without_blocking(const route& r, core::request& req) const {
    return run_route(r, req, [&]() -> std::optional<core::principal> {
        if (!authenticate_quickly_) return std::nullopt;
        return authenticate_quickly_(req, r.options.auth);
    }, r.fn);
}

router::user_read_plan router::plan_user_read(const route& r, core::request& req) const {
    if (!r.user_read) return std::monostate{};
    std::optional<store::user_key> key;
    bool planned = false;
    auto outcome = run_route(r, req, [&]() -> std::optional<core::principal> {
        if (!authenticate_quickly_) return std::nullopt;
        return authenticate_quickly_(req, r.options.auth);
    }, [&](core::request& q) {
        key = r.user_read->key(q);
        planned = true;
        return core::response{};
    });
    if (!outcome) return std::monostate{};                // the caller is not known without the database
    if (!planned) return std::move(*outcome);             // refused: the rendered error
    if (key) return std::move(*key);
    return std::monostate{};                              // not a one-user read
}

core::response router::answer_user_read(const route& r, core::request& req, store::result<schema::user>&& found) const {
    // Authenticated by plan_user_read: only the answer runs here.
    return *run_route(r, req, [] { return std::optional<core::principal>(); },
                      [&](core::request& q) { return r.user_read->answer(q, std::move(found)); }, false);
}

}  // namespace idgate::gateway
