// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What every SCIM endpoint does with HTTP the same way: bodies in and out, ETags, paging parameters.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/http.hpp"

namespace idgate::scim::detail {

// An application/scim+json response. The object overload serialises a resource or a ListResponse as it
// is: passing an object where a value is expected would first copy it, every member, into a value.
core::response scim_json(int status, const boost::json::value& body);
core::response scim_json(int status, const boost::json::object& body);

// The request body as a JSON object (400 invalidSyntax otherwise).
boost::json::object body_object(const core::request& req);

// If-Match (RFC 7644 §3.14): the version the client saw; nullopt when absent or "*".
std::optional<std::int64_t> if_match(const core::request& req);

// 304 Not Modified when If-None-Match names `version` (or "*").
std::optional<core::response> not_modified(const core::request& req, std::int64_t version);

// A 412 for a stale If-Match.
core::http_error precondition_failed(std::int64_t current_version);

// An integer query parameter, `fallback` when absent (400 invalidValue when not an integer).
std::int64_t integer_param(const core::request& req, std::string_view name, std::int64_t fallback);

// RFC 7644 §3.4.2.4: startIndex below 1 means 1; count is clamped to [0, max_page_size].
struct page_window {
    std::int64_t start_index = 1;
    std::int64_t offset = 0;
    std::int64_t limit = 0;
};
page_window page_of(std::int64_t start_index, std::int64_t count);

}  // namespace idgate::scim::detail
