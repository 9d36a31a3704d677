// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace idgate::store::detail {

struct query_error {
    std::string reason;
};

// The WHERE and ORDER BY of a query, against `users u` or `directory_groups g`, with parameters :org
// and :p0, :p1, ...
struct resource_sql {
    std::string where;
    std::string count_where;  // `where` without a cursor position: totals count every match
    std::size_t count_params = 0;  // how many of `params` count_where uses (the first ones)
    std::string order_by;
    std::vector<std::string> params;  // values of :p0, :p1, ... in order
};

// `s` with LIKE's wildcards and the escape character escaped, for `LIKE ... ESCAPE '\'`.
std::string escape_like(std::string_view s);

// Throw query_error when the query cannot be translated.
// `postgres` selects how JSON is read (extension attributes); the rest of the SQL is the same on both.
resource_sql translate(const user_query& q, bool postgres = false);
// The folded userName when `q` asks for exactly one userName (`userName eq "..."`, nothing else, no
// cursor): userName is unique per organisation, so the answer is that one row or none.
std::optional<std::string> sole_user_name(const user_query& q);
resource_sql translate(const group_query& q);

}  // namespace idgate::store::detail
