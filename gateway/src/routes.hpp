// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <string>
#include <string_view>

#include "gateway/router.hpp"
#include "services.hpp"

namespace idgate::gateway {

// Registers every endpoint of the gateway. routes.cpp is the one file that knows URLs.
void add_routes(router& r, services& s);

// Canonical URLs of resources, for Location headers and links. Defined next to the route table.
namespace urls {
std::string organization(std::string_view id);
std::string scim_base(std::string_view organization_slug);
// Single sign-on endpoints of a connection: the path (`leaf` is login, callback, acs, ...), and the absolute
// URL identity providers are given, under the configured public base (sso.base_url).
std::string oidc_endpoint(std::string_view connection, std::string_view leaf);
std::string saml_endpoint(std::string_view connection, std::string_view leaf);
std::string public_url(const accounts::sso_settings& settings, std::string_view path);
}

}  // namespace idgate::gateway
