// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <memory>

#include "dialect.hpp"
#include "pool.hpp"
#include "store/store.hpp"

namespace idgate::store::detail {

std::unique_ptr<store> make_soci_store(const dialect& d, std::unique_ptr<session_pool> pool,
                                       std::size_t write_transactions, const core::clock& clock);

}  // namespace idgate::store::detail
