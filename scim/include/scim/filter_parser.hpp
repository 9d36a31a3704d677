// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Parsers for SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2). Input is hostile:
// no exceptions, bounded nesting, and every failure carries the position a person can look at.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "schema/filter.hpp"

namespace idgate::scim {

struct parse_error {
    std::size_t position = 0;  // 0-based offset into the input
    std::string message;
    // "<message> at position <n>", the detail of a 400 invalidFilter / invalidPath.
    std::string describe() const;
};

struct filter_parse_result {
    schema::filter_ptr filter;  // set on success
    parse_error error;          // set on failure
    explicit operator bool() const { return filter != nullptr; }
};

// Operators and keywords are case-insensitive; precedence is not > and > or (RFC 7644 §3.4.2.2).
filter_parse_result parse_filter(std::string_view text);

// A PATCH path: attrPath, or valuePath with an optional sub-attribute after the brackets:
//   name.familyName   emails[type eq "work"].value   members[value eq "2819c223"]
//   urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
struct patch_path {
    schema::attribute_path path;         // attribute (and sub-attribute when written without brackets)
    schema::filter_ptr value_filter;     // the [...] part, if any
    std::string sub_attribute_after;     // ".value" after the brackets, without the dot
};

struct patch_path_result {
    std::optional<patch_path> path;
    parse_error error;
    explicit operator bool() const { return path.has_value(); }
};

patch_path_result parse_patch_path(std::string_view text);

// Splits "urn:...:User:name.givenName" into its parts; false when it is not a valid attribute path.
bool parse_attribute_path(std::string_view text, schema::attribute_path& out);

}  // namespace idgate::scim
