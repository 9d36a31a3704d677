// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SCIM schemas idgate serves (RFC 7643 §4.1 User, §4.2 Group, §4.3 enterprise User extension), as
// data. /Schemas is rendered from these definitions, and PATCH resolves and checks attribute paths
// against them, so what discovery says is what the server does.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace idgate::scim {

enum class attribute_type { string, boolean, decimal, integer, date_time, reference, complex, binary };
enum class mutability { read_only, read_write, immutable, write_only };
enum class returned { always, never, by_default, request };
enum class uniqueness { none, server, global };

struct attribute_definition {
    std::string name;
    attribute_type type = attribute_type::string;
    bool multi_valued = false;
    std::string description;
    bool required = false;
    bool case_exact = false;
    scim::mutability mutability = mutability::read_write;
    scim::returned returned = returned::by_default;
    scim::uniqueness uniqueness = uniqueness::none;
    std::vector<attribute_definition> sub_attributes;
    std::vector<std::string> canonical_values;
    std::vector<std::string> reference_types;
};

struct schema_definition {
    std::string id;  // the schema URN
    std::string name;
    std::string description;
    std::vector<attribute_definition> attributes;
};

// User extension schemas declared in configuration (RFC 7643 §3.3), beyond the built-in enterprise
// extension: their attributes are validated on input, stored, returned, patchable and listed in
// /Schemas, with no code change. Simple types only (no complex attributes); single-valued ones are
// filterable (evaluated on the JSON they are kept in, without an index).
struct extension_registry {
    std::vector<schema_definition> user_extensions;
    const schema_definition* find(std::string_view urn) const;
};

// Parses the words used in configuration ("string", "readOnly", ...); false when unknown.
bool parse_attribute_type(std::string_view text, attribute_type& out);
bool parse_mutability(std::string_view text, mutability& out);
bool parse_returned(std::string_view text, returned& out);

const schema_definition& user_schema();
const schema_definition& enterprise_user_schema();
const schema_definition& group_schema();

// The RFC 7643 §7 representation, with meta.location under `base_url`.
boost::json::object schema_to_json(const schema_definition& s, const std::string& base_url);

}  // namespace idgate::scim
