// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Just-in-time provisioning: a person signed in through an identity provider (SAML, OIDC). Their
// attributes go through the connection's mapping rules; the user is found by the identity binding (never
// by email or userName), created or updated, and granted what the rules say -- or the sign-in is refused
// with one reason code per cause, for the failure page's log line and the audit trail.
#include <memory>
#include <string>

#include "mapping/registry.hpp"
#include "provisioning/connection_gate.hpp"
#include "provisioning/reconciler.hpp"

namespace idgate::provisioning {

struct sign_in_result {
    std::string user_id, user_name;  // set on success
    std::string failure;             // a reason code on refusal: denied_by_rule, groups_unknown, ...
    std::string detail;              // for the log and the audit record, never for the person
    bool ok() const { return failure.empty(); }
};

// `subject`: the protocol's immutable id of the person (OIDC "iss|sub" or Entra "tid|oid", a SAML
// persistent NameID). When the rules map `external_id`, that value binds instead, so that a SCIM push
// (externalId) and a sign-in of the same person meet on one user.
sign_in_result sign_in(store::store& db, reconciler& reconciler, std::shared_ptr<const mapping::snapshot> rules,
                       const connection_ref& connection, const std::string& subject, const mapping::identity& who,
                       const schema::actor& actor);

}  // namespace idgate::provisioning
