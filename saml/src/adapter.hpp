// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SAML adapter's table (core/adapter.hpp). The adapter, idgate_saml_adapter.so, is src/response.cpp
// (libxml2, xmlsec1) and src/metadata_fetch.cpp (libcurl) with src/adapter_entry.cpp; the rest of the
// module calls them through src/adapter_calls.cpp, which opens the adapter at the first call.
#include "saml/connection.hpp"
#include "saml/logout.hpp"
#include "saml/response.hpp"
#include "saml/service_provider.hpp"

namespace idgate::saml::detail {

struct xml_adapter {
    decltype(&saml::validate_response) validate_response;
    decltype(&saml::decode_post_binding) decode_post_binding;
    decltype(&saml::certificate_usable) certificate_usable;
    decltype(&saml::initialise) initialise;
    decltype(&saml::parse_idp_metadata) parse_idp_metadata;
    decltype(&saml::metadata_is_signed) metadata_is_signed;
    decltype(&saml::parse_logout_request) parse_logout_request;
    decltype(&saml::parse_logout_response) parse_logout_response;
    decltype(&saml::sign_xml) sign_xml;
    decltype(&saml::read_post) read_post;
    decltype(&saml::post_message) post_message;
    decltype(&saml::fetch_metadata) fetch_metadata;
};

}  // namespace idgate::saml::detail
