// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SCIM representation of a user (RFC 7643 §4.1 and the enterprise extension §4.3), both ways, and
// the attribute projection of RFC 7644 §3.9. Input errors throw core::http_error 400 with the RFC 7644
// §3.12 scimType (invalidSyntax for a wrong shape, invalidValue for a wrong value).
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/http.hpp"
#include "schema/model.hpp"
#include "scim/schema_definitions.hpp"

namespace idgate::scim {

inline constexpr std::string_view user_schema_urn = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view enterprise_user_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view error_urn = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr std::string_view list_response_urn = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view patch_op_urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view search_request_urn = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

// No configured extensions.
const extension_registry& no_extensions();

// The full representation, with meta (location is the resource's URL).
boost::json::object user_to_json(const schema::user& u, const std::string& location,
                                 const extension_registry& extensions = no_extensions());

// Reads a User resource body (POST, PUT, or the result of a PATCH) into `out`, replacing every
// writable field; id, meta and groups are read-only and ignored (RFC 7643 §2.2). The password is
// write-only and never stored by this release.
// Attributes of configured extensions are validated against their definitions.
void user_from_json(const boost::json::object& body, schema::user& out,
                    const extension_registry& extensions = no_extensions());

// "W/\"<version>\"": the ETag and meta.version (RFC 7644 §3.14).
std::string etag(std::int64_t version);
// Parses an If-Match / If-None-Match value: "*" -> -1, W/"7" or "7" -> 7; nullopt if malformed.
std::optional<std::int64_t> parse_etag(std::string_view header);

// RFC 7644 §3.9: keep only `attributes` (plus id and schemas, always returned), or drop
// `excludedAttributes`. Names are case-insensitive and may be sub-attributes or URN-qualified.
struct projection {
    std::vector<std::string> attributes;
    std::vector<std::string> excluded;
    bool empty() const { return attributes.empty() && excluded.empty(); }
};
// From the query parameters (comma-separated lists).
projection projection_from(const core::request& req);
void apply_projection(boost::json::object& resource, const projection& p);

// Case-insensitive lookup of a JSON member (attribute names are case-insensitive, RFC 7643 §2.1).
boost::json::value* find_member(boost::json::object& o, std::string_view name);
const boost::json::value* find_member(const boost::json::object& o, std::string_view name);

bool iequals(std::string_view a, std::string_view b);

// A 400 with a SCIM type.
core::http_error bad_request(std::string scim_type, std::string detail);

// The RFC 7644 §3.12 error body ("status" is a string; scimType only where one applies). The gateway's
// error renderer and /Bulk's per-operation results both use it.
boost::json::object error_body(int status, const std::string& scim_type, const std::string& detail);

}  // namespace idgate::scim
