// SPDX-License-Identifier: AGPL-3.0-or-later
#include "schema/filter.hpp"

namespace idgate::schema {

std::string attribute_path::to_string() const {
    std::string out;
    if (!schema_urn.empty()) out += schema_urn + ":";
    out += attribute;
    if (!sub_attribute.empty()) out += "." + sub_attribute;
    return out;
}

std::string_view to_string(compare_op op) {
    switch (op) {
        case compare_op::eq: return "eq";
        case compare_op::ne: return "ne";
        case compare_op::co: return "co";
        case compare_op::sw: return "sw";
        case compare_op::ew: return "ew";
        case compare_op::gt: return "gt";
        case compare_op::ge: return "ge";
        case compare_op::lt: return "lt";
        case compare_op::le: return "le";
        case compare_op::pr: return "pr";
    }
    return "?";
}

namespace {
std::string value_text(const filter_value& v) {
    switch (v.type) {
        case filter_value::kind::string: return "\"" + v.text + "\"";
        case filter_value::kind::number: return v.text;
        case filter_value::kind::boolean: return v.boolean ? "true" : "false";
        case filter_value::kind::null: return "null";
    }
    return "";
}
}  // namespace

std::string to_sexpr(const filter& f) {
    return std::visit(
        [](const auto& n) -> std::string {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, comparison>) {
                if (n.op == compare_op::pr) return "(pr " + n.path.to_string() + ")";
                return "(" + std::string(to_string(n.op)) + " " + n.path.to_string() + " " + value_text(n.value) + ")";
            } else if constexpr (std::is_same_v<T, logical>) {
                return std::string("(") + (n.op == logical::kind::and_ ? "and " : "or ") + to_sexpr(*n.left) + " " +
                       to_sexpr(*n.right) + ")";
            } else if constexpr (std::is_same_v<T, negation>) {
                return "(not " + to_sexpr(*n.inner) + ")";
            } else {
                return "(" + n.path.to_string() + "[] " + to_sexpr(*n.inner) + ")";
            }
        },
        f.node);
}

}  // namespace idgate::schema
