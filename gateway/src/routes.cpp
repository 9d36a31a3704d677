// SPDX-License-Identifier: AGPL-3.0-or-later
// Every URL the gateway serves, on one screen.
#include "routes.hpp"

#include "handlers.hpp"

namespace idgate::gateway {

namespace urls {
std::string organization(std::string_view id) { return "/api/v1/organizations/" + std::string(id); }
}  // namespace urls

void add_routes(router& r, services& s) {
    using core::method;
    namespace h = handlers;
    const route_options ops_inline{auth_policy::none, error_style::json, execution::io_thread, 0};
    const route_options ops_blocking{auth_policy::none, error_style::json, execution::blocking, 0};
    // Admin API bodies are small JSON documents.
    const route_options admin{auth_policy::instance_admin, error_style::json, execution::blocking, 64 * 1024};

    r.set_authenticator([&s](const core::request& req, auth_policy p) { return h::authenticate(s, req, p); });

    // Operations: liveness must not depend on the database; readiness must.
    r.add(method::get, "/healthz", ops_inline, [](core::request& q) { return h::healthz(q); });
    r.add(method::get, "/readyz", ops_blocking, [&s](core::request& q) { return h::readyz(s, q); });
    r.add(method::get, "/metrics", ops_inline, [&s](core::request& q) { return h::metrics_text(s, q); });
    r.add(method::get, "/api/v1/version", ops_inline, [](core::request& q) { return h::version(q); });

    // Instance administration.
    r.add(method::get, "/api/v1/organizations", admin, [&s](core::request& q) { return h::list_organizations(s, q); });
    r.add(method::post, "/api/v1/organizations", admin, [&s](core::request& q) { return h::create_organization(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}", admin,
          [&s](core::request& q) { return h::get_organization(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}/audit", admin,
          [&s](core::request& q) { return h::list_audit(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}/changes", admin,
          [&s](core::request& q) { return h::list_changes(s, q); });
}

}  // namespace idgate::gateway
