// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tokens.hpp"

#include <stdexcept>

#include "core/crypto.hpp"
#include "core/log.hpp"

namespace idgate::gateway {

issued_token issue_token(store::store& db, schema::token_kind kind, const std::string& organization_id,
                         const std::string& name, std::optional<core::time_point> expires, const schema::actor& by,
                         const std::string& connection_id) {
    // The prefix tells a leaked secret's kind at a glance (and lets secret scanners find it).
    issued_token out;
    out.secret = core::new_secret(kind == schema::token_kind::scim ? "idg_scim_" : "idg_adm_");
    out.token.kind = kind;
    out.token.organization_id = organization_id;
    out.token.name = name;
    out.token.connection_id = connection_id;
    out.token.expires = expires;
    out.token.secret_hash = core::sha256_hex(out.secret);
    auto created = db.create_token(out.token, by);
    if (!created) throw std::runtime_error("could not store the token (" + created.error().message() + ")");
    out.token = *created;
    core::log::info("issued a token", {{"token_id", out.token.id},
                                        {"kind", schema::to_string(kind)},
                                        {"organization_id", organization_id}});
    return out;
}

}  // namespace idgate::gateway
