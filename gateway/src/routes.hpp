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
// Single sign-on endpoints of a connection: the path (`leaf` is login, callback, acs, ...).
std::string oidc_endpoint(std::string_view connection, std::string_view leaf);
std::string saml_endpoint(std::string_view connection, std::string_view leaf);
// The absolute URL of `path` under idgate's public URL (server.public_url); the path itself when none is
// configured (SSO requires one; SCIM then answers with paths, which RFC 7643 §2.3.7 resolves against the
// SCIM base the client called).
std::string public_url(std::string_view base, std::string_view path);
// An organisation's SCIM base as its identity providers are given it: absolute under the public URL.
std::string scim_endpoint(std::string_view base, std::string_view organization_slug);
}

}  // namespace idgate::gateway
