// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <memory>

#include "sql_runner.hpp"
#include "store/accounts.hpp"

namespace idgate::store::detail {

// Local user management's storage, running its SQL through `db` (which must outlive it).
std::unique_ptr<accounts> make_soci_accounts(sql_runner& db);

}  // namespace idgate::store::detail
