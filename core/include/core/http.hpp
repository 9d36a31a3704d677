// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The HTTP vocabulary that handlers see. No Beast or Asio types: a handler is a plain function from
// `request` to `response`, unit-testable without sockets. The gateway adapts Beast messages to these.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idgate::core {

enum class method { get, head, post, put, patch, del, options, other };

std::string_view to_string(method m);

using header_list = std::vector<std::pair<std::string, std::string>>;

// Who is calling, once the router has authenticated the request.
struct principal {
    enum class kind { anonymous, instance_admin, scim_client, user };
    kind type = kind::anonymous;
    std::string id;               // token id or user id
    std::string organization_id;  // empty for instance-wide admins
    std::string organization_slug;
    std::string display;          // for audit records, never a secret
    std::string session_id;       // for users signed in with a session
    std::string connection_id;    // SCIM tokens of an IdP connection: which one
    std::string connection_name;
};

struct request {
    method verb = method::get;
    std::string path;                                             // decoded path, no query
    std::vector<std::pair<std::string, std::string>> query;       // decoded query parameters, in order
    std::string raw_query;  // the query as received, still encoded (SAML redirect signatures cover it)
    std::vector<std::pair<std::string, std::string>> path_params; // from the route template
    header_list headers;                                          // names lower-case
    std::string body;
    std::string request_id;
    std::string client_address;
    std::size_t json_max_depth = 32;
    principal caller;

    // First header with this (lower-case) name.
    std::optional<std::string_view> header(std::string_view lower_name) const;
    std::optional<std::string_view> query_param(std::string_view name) const;
    // Path parameter from the route template; the router guarantees it exists.
    std::string_view param(std::string_view name) const;
};

// A query parameter as an integer within [min, max], or `fallback` when absent; otherwise http_error 400
// "invalid_parameter" naming the parameter and the range.
std::int64_t integer_query_param(const request& req, std::string_view name, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max);

struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    header_list headers;

    static response json(int status, std::string body);
    static response no_content();
};

// The one error type handlers throw for anything a client should see. The router renders it (one
// render site: gateway/src/error_render.cpp) in the route's error style: plain JSON or the SCIM error
// schema of RFC 7644 §3.12. `detail` goes to the client; `internal` only to the log.
class http_error : public std::exception {
public:
    http_error(int status, std::string code, std::string detail, std::string internal = {});

    int status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& internal() const noexcept { return internal_; }
    // RFC 7644 §3.12 scimType (e.g. "invalidFilter", "uniqueness"); empty when none applies.
    const std::string& scim_type() const noexcept { return scim_type_; }
    const header_list& headers() const noexcept { return headers_; }

    http_error& with_scim_type(std::string t) & { scim_type_ = std::move(t); return *this; }
    http_error&& with_scim_type(std::string t) && { scim_type_ = std::move(t); return std::move(*this); }
    http_error&& with_header(std::string name, std::string value) && {
        headers_.emplace_back(std::move(name), std::move(value));
        return std::move(*this);
    }

    const char* what() const noexcept override { return detail_.c_str(); }

private:
    int status_;
    std::string code_;
    std::string detail_;
    std::string internal_;
    std::string scim_type_;
    header_list headers_;
};

}  // namespace idgate::core
