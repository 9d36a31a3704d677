// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

namespace idgate::core {

boost::json::value parse_json_body(const request& req) {
    if (req.body.empty())
        throw http_error(400, "invalid_json", "the request body is empty; a JSON document is required")
            .with_scim_type("invalidSyntax");
    boost::json::parse_options options;
    options.max_depth = req.json_max_depth;
    boost::system::error_code ec;
    auto value = boost::json::parse(req.body, ec, {}, options);
    if (ec) {
        std::string detail = "the request body is not valid JSON: " + ec.message();
        if (ec == boost::json::error::too_deep)
            detail = "the request body nests JSON deeper than " + std::to_string(req.json_max_depth) + " levels";
        throw http_error(400, "invalid_json", std::move(detail)).with_scim_type("invalidSyntax");
    }
    return value;
}

boost::json::object parse_json_object_body(const request& req) {
    auto value = parse_json_body(req);
    if (!value.is_object())
        throw http_error(400, "invalid_json", "the request body must be a JSON object")
            .with_scim_type("invalidSyntax");
    return std::move(value.as_object());
}

}  // namespace idgate::core
