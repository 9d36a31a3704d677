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
    std::string_view name;
    attribute_type type = attribute_type::string;
    bool multi_valued = false;
    std::string_view description;
    bool required = false;
    bool case_exact = false;
    scim::mutability mutability = mutability::read_write;
    scim::returned returned = returned::by_default;
    scim::uniqueness uniqueness = uniqueness::none;
    std::vector<attribute_definition> sub_attributes;
    std::vector<std::string_view> canonical_values;
    std::vector<std::string_view> reference_types;
};

struct schema_definition {
    std::string_view id;  // the schema URN
    std::string_view name;
    std::string_view description;
    std::vector<attribute_definition> attributes;
};

const schema_definition& user_schema();
const schema_definition& enterprise_user_schema();
const schema_definition& group_schema();

// The RFC 7643 §7 representation, with meta.location under `base_url`.
boost::json::object schema_to_json(const schema_definition& s, const std::string& base_url);

}  // namespace idgate::scim
