// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON representation. The caller reads the
// result back through the resource codec, which validates it as a whole, so a PATCH can never store
// what a PUT could not.
//
// Accepted dialects, all seen from real identity providers (see ../shared/INTEROP.md):
// - op names in any case ("Replace", "Add", "remove": Entra ID without its compliance flag, E4);
// - no path and a value object whose keys are attribute paths, dotted or URN-qualified (Entra E6,
//   Okta O7 "replace" {"active": false});
// - "add" on a single-valued attribute replaces it (E7); "add" with a value filter that matches
//   nothing creates the element the filter describes (emails[type eq "work"].value);
// - "remove" of a multi-valued attribute with a value list removes only those values (E9);
// - "remove" with a filter that matches nothing changes nothing, so a replayed PATCH is harmless (R5).
#include <boost/json/object.hpp>
#include <string_view>
#include <vector>

#include "schema/filter.hpp"

namespace idgate::scim {

// What PATCH needs to know about a resource type's attributes.
struct attribute_info {
    std::string name;
    bool multi_valued = false;
    bool complex = false;
    bool read_only = false;
    bool case_exact_value = false;  // compare the "value" sub-attribute case-sensitively (ids)
};

struct resource_attributes {
    std::string core_urn;
    std::vector<attribute_info> core;
    std::vector<std::pair<std::string, std::vector<attribute_info>>> extensions;
    const attribute_info* find(std::string_view urn, std::string_view name) const;
};

// The User's attributes, with the enterprise extension and any configured extensions.
resource_attributes user_attributes(const struct extension_registry& extensions);

// Applies every operation of a PatchOp request body, in order. Throws core::http_error 400 with
// scimType invalidSyntax / invalidPath / noTarget / invalidValue / mutability; the detail names the
// operation ("Operations[1]: ...").
void apply_patch(boost::json::object& resource, const boost::json::object& patch_request,
                 const resource_attributes& attributes);

// Whether a multi-valued attribute's element matches a value filter (the [...] of a path).
bool element_matches(const schema::filter& f, const boost::json::object& element, bool case_exact_value);

}  // namespace idgate::scim
