// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <memory>

#include "sql_runner.hpp"
#include "store/provisioning.hpp"

namespace idgate::store::detail {

// Identity provisioning's storage, running its SQL through `db` (which must outlive it).
std::unique_ptr<provisioning> make_soci_provisioning(sql_runner& db);

}  // namespace idgate::store::detail
