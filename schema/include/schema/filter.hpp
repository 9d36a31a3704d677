// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SCIM filter syntax tree (RFC 7644 §3.4.2.2). Plain data, no I/O: the SCIM module parses filters
// into it, the storage module folds it into SQL, and PATCH evaluates it on JSON, so all three share one
// definition of what a filter means.
#include <memory>
#include <string>
#include <variant>

namespace idgate::schema {

// urn:...:User:name.givenName -> {schema_urn "urn:...:User", attribute "name", sub_attribute "givenName"}.
// Names keep the case they were written in; comparisons on them are case-insensitive (RFC 7643 §2.1).
struct attribute_path {
    std::string schema_urn;     // empty when not written
    std::string attribute;
    std::string sub_attribute;  // empty when none
    std::string to_string() const;
};

enum class compare_op { eq, ne, co, sw, ew, gt, ge, lt, le, pr };
std::string_view to_string(compare_op op);

struct filter_value {
    enum class kind { string, number, boolean, null };
    kind type = kind::null;
    std::string text;  // the string, or the number as written
    bool boolean = false;
};

struct filter;
using filter_ptr = std::shared_ptr<const filter>;

struct comparison {
    attribute_path path;
    compare_op op = compare_op::eq;
    filter_value value;  // unused for pr
};

struct logical {
    enum class kind { and_, or_ };
    kind op = kind::and_;
    filter_ptr left, right;
};

struct negation {
    filter_ptr inner;
};

// emails[type eq "work" and value co "@example.com"]: `inner` names sub-attributes of `path`.
struct value_path {
    attribute_path path;
    filter_ptr inner;
};

struct filter {
    std::variant<comparison, logical, negation, value_path> node;
};

// A canonical S-expression of the tree, for tests and logs: (and (eq userName "bjensen") (pr title)).
std::string to_sexpr(const filter& f);

}  // namespace idgate::schema
