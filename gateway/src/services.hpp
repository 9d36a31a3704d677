// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What handlers are given: the long-lived parts of the process. Handlers hold no state of their own.
#include "accounts/mail.hpp"
#include "core/clock.hpp"
#include "mapping/registry.hpp"
#include "gateway/metrics.hpp"
#include "scim/schema_definitions.hpp"
#include "store/store.hpp"

namespace idgate::gateway {

struct services {
    store::store& db;
    metrics& stats;
    const core::clock& clock;
    const scim::extension_registry& scim_extensions;
    const accounts::mailer* mail = nullptr;  // null when no mail server is configured
    mapping::registry* mappings = nullptr;   // the mapping rules in force
};

}  // namespace idgate::gateway
