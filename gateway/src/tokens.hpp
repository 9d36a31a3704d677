// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Issuing bearer tokens, for the admin API and the command line alike. The secret is returned once and
// only its SHA-256 is stored.
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "schema/model.hpp"
#include "store/store.hpp"

namespace idgate::gateway {

struct issued_token {
    schema::api_token token;
    std::string secret;
};

// Throws std::runtime_error when the store refuses (a digest collision is practically impossible).
issued_token issue_token(store::store& db, schema::token_kind kind, const std::string& organization_id,
                         const std::string& name, std::optional<core::time_point> expires, const schema::actor& by,
                         const std::string& connection_id = {});

}  // namespace idgate::gateway
