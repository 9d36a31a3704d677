// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// application/x-www-form-urlencoded (HTML 5 §4.10.21.7; what IdPs POST back: OIDC back-channel logout
// tokens, SAML responses) and percent-encoding for the query strings idgate builds (RFC 3986 §2.1).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idgate::core {

// Every byte but RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~) as %XX.
std::string percent_encode(std::string_view text);

// Text for XML or HTML content and quoted attribute values: & < > " ' as character references (XML 1.0
// §2.4, §3.3.3; HTML's own rules accept the same).
std::string markup_escape(std::string_view text);

// name=value pairs joined by '&', each percent-encoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// The fields of a form body, in order ('+' is a space); nullopt when a %-escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body);

}  // namespace idgate::core
