// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The one reader of JSON request bodies: size is already bounded by the route's body limit, and depth
// is bounded here, so a hostile body can neither exhaust memory nor the stack.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/http.hpp"

namespace idgate::core {

// Parses the body as JSON with the request's depth limit. Throws http_error 400 "invalid_json"
// (scimType invalidSyntax) naming the problem; an empty body is an error too.
boost::json::value parse_json_body(const request& req);

// Same, and requires a JSON object at the top level.
boost::json::object parse_json_object_body(const request& req);

}  // namespace idgate::core
