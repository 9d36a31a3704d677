// SPDX-License-Identifier: AGPL-3.0-or-later
// /Bulk (RFC 7644 §3.7): many operations in one request, each run through the same handler as its
// single-resource endpoint, in order, with "bulkId:<id>" references to resources created earlier in the
// request. Operations are independent (the RFC does not make a bulk request atomic); failOnErrors stops
// after that many failures.
#include <boost/json/serialize.hpp>
#include <map>

#include "http_helpers.hpp"
#include "scim/service.hpp"
#include "scim/user_codec.hpp"

namespace idgate::scim {
namespace json = boost::json;
using namespace detail;

namespace {

constexpr std::string_view bulk_request_urn = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
constexpr std::string_view bulk_response_urn = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

struct unresolved {
    std::string bulk_id;
};

// Replaces every string "bulkId:<id>" in `v` by the id the earlier operation created.
void resolve(json::value& v, const std::map<std::string, std::string>& created) {
    if (v.is_string()) {
        const std::string_view s = v.as_string();
        if (s.rfind("bulkId:", 0) == 0) {
            const auto it = created.find(std::string(s.substr(7)));
            if (it == created.end()) throw unresolved{std::string(s.substr(7))};
            v = it->second;
        }
    } else if (v.is_array()) {
        for (auto& x : v.as_array()) resolve(x, created);
    } else if (v.is_object()) {
        for (auto& kv : v.as_object()) resolve(kv.value(), created);
    }
}

}  // namespace

core::response bulk(const context& c, const core::request& req) {
    const auto body = body_object(req);
    const auto* schemas = find_member(body, "schemas");
    bool ok = false;
    if (schemas && schemas->is_array())
        for (const auto& s : schemas->as_array()) ok = ok || (s.is_string() && iequals(s.as_string(), bulk_request_urn));
    if (!ok) throw bad_request("invalidSyntax", "'schemas' must be [\"" + std::string(bulk_request_urn) + "\"]");
    const auto* ops = find_member(body, "Operations");
    if (!ops || !ops->is_array()) throw bad_request("invalidSyntax", "'Operations' must be an array");
    // RFC 7644 §3.7.4: more operations than advertised is 413.
    if (static_cast<std::int64_t>(ops->as_array().size()) > bulk_max_operations)
        throw core::http_error(413, "too_large",
                               "a bulk request may carry at most " + std::to_string(bulk_max_operations) +
                                   " operations; this one has " + std::to_string(ops->as_array().size()));
    std::int64_t fail_on_errors = 0;
    if (const auto* f = find_member(body, "failOnErrors"); f && !f->is_null()) {
        if (!f->is_int64() || f->as_int64() < 1) throw bad_request("invalidValue", "'failOnErrors' must be an integer >= 1");
        fail_on_errors = f->as_int64();
    }

    std::map<std::string, std::string> created;  // bulkId -> id
    json::array results;
    std::int64_t errors = 0;
    for (const auto& item : ops->as_array()) {
        json::object result;
        int status = 500;
        try {
            if (!item.is_object()) throw bad_request("invalidSyntax", "each operation must be an object");
            const auto& op = item.as_object();
            const auto string_member = [&op](std::string_view name) -> std::string {
                const auto* v = find_member(op, name);
                if (!v || v->is_null()) return {};
                if (!v->is_string()) throw bad_request("invalidSyntax", "'" + std::string(name) + "' must be a string");
                return std::string(v->as_string());
            };
            const std::string method = string_member("method"), bulk_id = string_member("bulkId"),
                              version = string_member("version");
            std::string path = string_member("path");
            result["method"] = method;
            if (!bulk_id.empty()) result["bulkId"] = bulk_id;
            if (!version.empty()) result["version"] = version;

            core::request sub;
            sub.request_id = req.request_id;
            sub.client_address = req.client_address;
            sub.caller = req.caller;
            sub.json_max_depth = req.json_max_depth;
            if (!version.empty()) sub.headers.emplace_back("if-match", version);
            // Paths: /Users, /Groups, /Users/<id or bulkId:x>, /Groups/<...>.
            const auto second_slash = path.find('/', 1);
            const std::string resource = path.substr(0, second_slash);
            std::string id;
            if (second_slash != std::string::npos) {
                json::value reference = json::string(path.substr(second_slash + 1));
                resolve(reference, created);
                id = std::string(reference.as_string());
                if (id.empty() || id.find('/') != std::string::npos)
                    throw bad_request("invalidPath", "'path' must be /Users, /Groups, /Users/<id> or /Groups/<id>");
                sub.path_params.emplace_back("id", id);
            }
            const bool users = resource == "/Users", groups = resource == "/Groups";
            if (!users && !groups) throw bad_request("invalidPath", "'path' must start with /Users or /Groups");
            if (const auto* data = find_member(op, "data"); data && !data->is_null()) {
                json::value copy = *data;
                resolve(copy, created);
                sub.body = json::serialize(copy);
            }
            if (sub.body.size() > bulk_max_payload)
                throw bad_request("invalidValue", "an operation's data is larger than the bulk payload limit");

            core::response res;
            if (iequals(method, "POST")) {
                if (!id.empty()) throw bad_request("invalidPath", "POST goes to /Users or /Groups");
                if (bulk_id.empty()) throw bad_request("invalidSyntax", "a POST operation needs a 'bulkId'");
                res = users ? users::create(c, sub) : groups::create(c, sub);
            } else if (id.empty()) {
                throw bad_request("invalidPath", method + " needs a resource id in 'path'");
            } else if (iequals(method, "PUT")) {
                res = users ? users::replace(c, sub) : groups::replace(c, sub);
            } else if (iequals(method, "PATCH")) {
                res = users ? users::patch(c, sub) : groups::patch(c, sub);
            } else if (iequals(method, "DELETE")) {
                res = users ? users::remove(c, sub) : groups::remove(c, sub);
            } else {
                throw bad_request("invalidSyntax", "unknown method '" + method + "' (POST, PUT, PATCH or DELETE)");
            }
            status = res.status;
            for (const auto& [name, value] : res.headers) {
                if (name == "Location") result["location"] = value;
                if (name == "ETag") result["version"] = value;
            }
            if (status == 201) {
                const auto location = std::string(result.at("location").as_string());
                const auto new_id = location.substr(location.rfind('/') + 1);
                created[bulk_id] = new_id;
            } else if (!id.empty() && !result.contains("location")) {
                result["location"] = c.base_url + resource + "/" + id;
            }
        } catch (const core::http_error& e) {
            status = e.status();
            result["response"] = error_body(e.status(), e.scim_type(), e.detail());
        } catch (const unresolved& u) {
            // RFC 7644 §3.7.2: a reference to an operation that did not create its resource.
            status = 409;
            result["response"] =
                error_body(409, "invalidValue", "bulkId '" + u.bulk_id + "' does not name a resource created earlier in this request");
        }
        result["status"] = std::to_string(status);
        results.push_back(std::move(result));
        if (status >= 400 && fail_on_errors > 0 && ++errors >= fail_on_errors) break;
    }
    return scim_json(200, json::object{{"schemas", json::array{bulk_response_urn}}, {"Operations", std::move(results)}});
}

}  // namespace idgate::scim
