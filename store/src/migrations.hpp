// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <string_view>
#include <vector>

namespace idgate::store::detail {

// A schema change. Migrations are append-only: never edit one that has shipped; add the next.
struct migration {
    int version;
    std::string_view name;
    std::vector<std::string_view> statements;  // DDL with {auto_id}/{bigint} fragments
};

const std::vector<migration>& migrations();
int latest_migration_version();

}  // namespace idgate::store::detail
