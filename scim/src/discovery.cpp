// SPDX-License-Identifier: AGPL-3.0-or-later
// Discovery endpoints (RFC 7644 §4, RFC 7643 §5-§6). They state exactly what this build supports.
#include <boost/json/serialize.hpp>

#include "scim/schema_definitions.hpp"
#include "scim/service.hpp"
#include "scim/user_codec.hpp"
#include "http_helpers.hpp"

namespace idgate::scim {
namespace json = boost::json;

namespace {

// The document with a placeholder for its location, built and serialised once: it is the same for
// every organisation but for `meta.location`, and identity providers poll it.
json::object service_provider_config_document(std::string location) {
    const auto feature = [](bool supported) { return json::object{{"supported", supported}}; };
    json::object filter{{"supported", true}, {"maxResults", max_page_size}};
    json::object bearer{{"type", "oauthbearertoken"},
                        {"name", "OAuth Bearer Token"},
                        {"description", "A long-lived bearer token issued by idgate for one organization"},
                        {"primary", true}};
    return json::object{
        {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}},
        {"patch", feature(true)},
        {"bulk", json::object{{"supported", true},
                              {"maxOperations", bulk_max_operations},
                              {"maxPayloadSize", static_cast<std::int64_t>(bulk_max_payload)}}},
        {"filter", std::move(filter)},
        {"changePassword", feature(false)},
        // RFC 9865: both index and cursor paging; cursors never expire (they are keyset positions).
        {"pagination", json::object{{"cursor", true},
                                    {"index", true},
                                    {"defaultPaginationMethod", "index"},
                                    {"defaultPageSize", default_page_size},
                                    {"maxPageSize", max_page_size}}},
        {"sort", feature(true)},
        {"etag", feature(true)},
        {"authenticationSchemes", json::array{std::move(bearer)}},
        {"meta", json::object{{"resourceType", "ServiceProviderConfig"},
                              {"location", std::move(location)}}}};
}

}  // namespace

core::response service_provider_config(const context& c, const core::request&) {
    static const auto [head, tail] = [] {
        const std::string marker = "\x01";
        const std::string text = json::serialize(service_provider_config_document(marker));
        const std::string quoted_marker = json::serialize(json::value(json::string(marker)));
        const auto at = text.find(quoted_marker);
        return std::pair{text.substr(0, at), text.substr(at + quoted_marker.size())};
    }();
    core::response r;
    r.status = 200;
    r.content_type = "application/scim+json";
    r.body = head + json::serialize(json::value(json::string(c.base_url + "/ServiceProviderConfig"))) + tail;
    return r;
}

core::response resource_types(const context& c, const core::request&) {
    json::object user{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
                      {"id", "User"},
                      {"name", "User"},
                      {"endpoint", "/Users"},
                      {"description", "User Account"},
                      {"schema", user_schema_urn},
                      {"schemaExtensions", [&c] {
                           json::array ext{json::object{{"schema", enterprise_user_urn}, {"required", false}}};
                           for (const auto& e : c.extensions.user_extensions)
                               ext.push_back(json::object{{"schema", e.id}, {"required", false}});
                           return ext;
                       }()},
                      {"meta", json::object{{"resourceType", "ResourceType"}, {"location", c.base_url + "/ResourceTypes/User"}}}};
    json::object group{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
                       {"id", "Group"},
                       {"name", "Group"},
                       {"endpoint", "/Groups"},
                       {"description", "Group"},
                       {"schema", "urn:ietf:params:scim:schemas:core:2.0:Group"},
                       {"meta", json::object{{"resourceType", "ResourceType"}, {"location", c.base_url + "/ResourceTypes/Group"}}}};
    json::array resources{std::move(user), std::move(group)};
    return detail::scim_json(200, json::object{{"schemas", json::array{list_response_urn}},
                                  {"totalResults", resources.size()},
                                  {"startIndex", 1},
                                  {"itemsPerPage", resources.size()},
                                  {"Resources", std::move(resources)}});
}

}  // namespace idgate::scim

namespace idgate::scim {

core::response schemas(const context& c, const core::request&) {
    json::array resources;
    for (const auto* s : {&user_schema(), &enterprise_user_schema(), &group_schema()})
        resources.push_back(schema_to_json(*s, c.base_url));
    for (const auto& e : c.extensions.user_extensions) resources.push_back(schema_to_json(e, c.base_url));
    const auto n = static_cast<std::int64_t>(resources.size());
    return detail::scim_json(200, json::object{{"schemas", json::array{list_response_urn}},
                                               {"totalResults", n},
                                               {"startIndex", 1},
                                               {"itemsPerPage", n},
                                               {"Resources", std::move(resources)}});
}

core::response schema_by_id(const context& c, const core::request& req) {
    const auto id = req.param("id");
    for (const auto* s : {&user_schema(), &enterprise_user_schema(), &group_schema()})
        if (iequals(s->id, id)) return detail::scim_json(200, schema_to_json(*s, c.base_url));
    if (const auto* e = c.extensions.find(id)) return detail::scim_json(200, schema_to_json(*e, c.base_url));
    throw core::http_error(404, "not_found", "no schema '" + std::string(id) + "'");
}

}  // namespace idgate::scim
