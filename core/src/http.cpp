// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/http.hpp"

#include <charconv>

namespace idgate::core {

std::string_view to_string(method m) {
    switch (m) {
        case method::get: return "GET";
        case method::head: return "HEAD";
        case method::post: return "POST";
        case method::put: return "PUT";
        case method::patch: return "PATCH";
        case method::del: return "DELETE";
        case method::options: return "OPTIONS";
        case method::other: break;
    }
    return "OTHER";
}

std::optional<std::string_view> request::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers)
        if (name == lower_name) return value;
    return std::nullopt;
}

std::optional<std::string_view> request::query_param(std::string_view name) const {
    for (const auto& [key, value] : query)
        if (key == name) return value;
    return std::nullopt;
}

std::string_view request::param(std::string_view name) const {
    for (const auto& [key, value] : path_params)
        if (key == name) return value;
    return {};
}

response response::json(int status, std::string body) {
    response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

response response::no_content() {
    response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

http_error::http_error(int status, std::string code, std::string detail, std::string internal)
    : status_(status), code_(std::move(code)), detail_(std::move(detail)), internal_(std::move(internal)) {}

std::int64_t integer_query_param(const request& req, std::string_view name, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) {
    const auto text = req.query_param(name);
    if (!text) return fallback;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || ptr != text->data() + text->size() || v < min || v > max)
        throw http_error(400, "invalid_parameter",
                         "query parameter '" + std::string(name) + "' must be an integer from " + std::to_string(min) +
                             " to " + std::to_string(max));
    return v;
}

}  // namespace idgate::core
