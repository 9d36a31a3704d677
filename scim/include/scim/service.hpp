// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SCIM 2.0 endpoints (RFC 7644 §3) as plain handler functions. The gateway authenticates the
// client, resolves the organisation the token belongs to, and passes it in a context; handlers run on
// the blocking pool (they call the store) and throw core::http_error with a scimType for the client.
#include <string>

#include "core/clock.hpp"
#include "core/http.hpp"
#include "schema/model.hpp"
#include "scim/identity_gate.hpp"
#include "scim/schema_definitions.hpp"
#include "store/store.hpp"

namespace idgate::scim {

struct context {
    store::store& db;
    const core::clock& clock;
    schema::organization organization;  // id and slug are set (the rest is not loaded per request)
    std::string base_url;  // the organisation's SCIM base, e.g. "/scim/v2/acme": resource URLs hang off it
    schema::actor actor;   // who is writing, for the audit trail
    const extension_registry& extensions;  // User extension schemas declared in configuration
    const identity_gate* gate = nullptr;   // the token's IdP connection, if it has one
};

// Paging limits advertised in /ServiceProviderConfig and enforced on every list (RFC 7644 §3.4.2.4).
inline constexpr std::int64_t default_page_size = 100;
inline constexpr std::int64_t max_page_size = 1000;
// Bulk limits advertised in /ServiceProviderConfig and enforced (RFC 7644 §3.7.4).
inline constexpr std::int64_t bulk_max_operations = 1000;
inline constexpr std::size_t bulk_max_payload = 1024 * 1024;

namespace users {
core::response list(const context& c, const core::request& req);    // GET /Users
core::response search(const context& c, const core::request& req);  // POST /Users/.search
core::response create(const context& c, const core::request& req);  // POST /Users
core::response get(const context& c, const core::request& req);     // GET /Users/{id}
core::response replace(const context& c, const core::request& req); // PUT /Users/{id}
core::response patch(const context& c, const core::request& req);   // PATCH /Users/{id}
core::response remove(const context& c, const core::request& req);  // DELETE /Users/{id}

// The two requests that read one user by a unique key -- GET /Users/{id}, and GET /Users whose filter is
// only `userName eq` (the existence check Okta and Entra ID send before every create) -- in two halves,
// so that the gateway can read that user without a blocking thread: which user (throws http_error for a
// bad request, like the handler), then the response for what was read. get() and list() are the same
// halves around a blocking read.
store::user_key get_key(const context& c, const core::request& req);
core::response answer_get(const context& c, const core::request& req, store::result<schema::user>&& found);
// nullopt: this list reads more than one user's row (list() answers it).
std::optional<store::user_key> list_key(const context& c, const core::request& req);
// Only after list_key gave a key for the same request: the filter is not checked again.
core::response answer_list(const context& c, const core::request& req, store::result<schema::user>&& found);
}  // namespace users

namespace groups {
core::response list(const context& c, const core::request& req);    // GET /Groups
core::response create(const context& c, const core::request& req);  // POST /Groups
core::response get(const context& c, const core::request& req);     // GET /Groups/{id}
core::response replace(const context& c, const core::request& req); // PUT /Groups/{id}
core::response patch(const context& c, const core::request& req);   // PATCH /Groups/{id}: 204
core::response remove(const context& c, const core::request& req);  // DELETE /Groups/{id}
}  // namespace groups

// POST /Bulk (RFC 7644 §3.7).
core::response bulk(const context& c, const core::request& req);

// Discovery (RFC 7644 §4): what this server supports, so that clients never have to guess.
core::response service_provider_config(const context& c, const core::request& req);
core::response resource_types(const context& c, const core::request& req);
core::response schemas(const context& c, const core::request& req);       // GET /Schemas
core::response schema_by_id(const context& c, const core::request& req);  // GET /Schemas/{id}

}  // namespace idgate::scim
