// SPDX-License-Identifier: AGPL-3.0-or-later
// The entry of idgate_saml_adapter.so: its table of the functions src/response.cpp and
// src/metadata_fetch.cpp define.
#include "adapter.hpp"

#include "core/adapter.hpp"

namespace idgate::saml::detail {
namespace {

constexpr xml_adapter table{&validate_response, &decode_post_binding, &certificate_usable, &initialise,
                            &parse_idp_metadata, &metadata_is_signed, &parse_logout_request,
                            &parse_logout_response, &sign_xml, &read_post, &post_message, &fetch_metadata};

}  // namespace
}  // namespace idgate::saml::detail

IDGATE_ADAPTER_ENTRY(idgate::saml::detail::table)
