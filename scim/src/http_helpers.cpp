// SPDX-License-Identifier: AGPL-3.0-or-later
#include "http_helpers.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

#include "core/json_body.hpp"
#include "scim/service.hpp"
#include "scim/user_codec.hpp"

namespace idgate::scim::detail {

namespace {
core::response scim_response(int status, std::string body) {
    core::response r;
    r.status = status;
    r.content_type = "application/scim+json";
    r.body = std::move(body);
    return r;
}
}  // namespace

core::response scim_json(int status, const boost::json::value& body) {
    return scim_response(status, boost::json::serialize(body));
}

core::response scim_json(int status, const boost::json::object& body) {
    return scim_response(status, boost::json::serialize(body));
}

boost::json::object body_object(const core::request& req) {
    auto v = core::parse_json_body(req);
    if (!v.is_object()) throw bad_request("invalidSyntax", "the request body must be a JSON object");
    return std::move(v.as_object());
}

std::optional<std::int64_t> if_match(const core::request& req) {
    const auto h = req.header("if-match");
    if (!h) return std::nullopt;
    const auto v = parse_etag(*h);
    if (!v) throw bad_request("invalidValue", "If-Match must be an entity tag such as W/\"3\"");
    if (*v < 0) return std::nullopt;
    return v;
}

std::optional<core::response> not_modified(const core::request& req, std::int64_t version) {
    const auto h = req.header("if-none-match");
    if (!h) return std::nullopt;
    const auto v = parse_etag(*h);
    if (!v || (*v != -1 && *v != version)) return std::nullopt;
    core::response r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", etag(version));
    return r;
}

core::http_error precondition_failed(std::int64_t current_version) {
    return core::http_error(412, "precondition_failed",
                            "the resource changed: its version is now " + etag(current_version) + "; read it again");
}

std::int64_t integer_param(const core::request& req, std::string_view name, std::int64_t fallback) {
    const auto text = req.query_param(name);
    if (!text || text->empty()) return fallback;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || ptr != text->data() + text->size())
        throw bad_request("invalidValue", "'" + std::string(name) + "' must be an integer");
    return v;
}

page_window page_of(std::int64_t start_index, std::int64_t count) {
    page_window w;
    w.start_index = std::max<std::int64_t>(1, start_index);
    w.offset = w.start_index - 1;
    w.limit = std::clamp<std::int64_t>(count, 0, max_page_size);
    return w;
}

}  // namespace idgate::scim::detail
