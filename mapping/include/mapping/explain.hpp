// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// JSON in and out of the evaluator, for `idgate mapping explain` (and later the admin API): a sample of
// what an IdP sends becomes an identity, and an outcome becomes a report naming the rule behind each grant.
#include <boost/json/object.hpp>

#include "mapping/rules.hpp"

namespace idgate::mapping {

// Accepts what the IdPs send, as JSON:
// - a SCIM User body: nested objects become dotted names (name.givenName), multi-valued attributes with a
//   type become "<attr>.<type>" (emails.work) as well as "<attr>"; extension URNs keep their prefix
//   (urn:...:User:department); SCIM "groups" ([{value, display}]) become group names;
// - OIDC claims or a SAML attribute set: {"claim": "value" | ["v1", "v2"]}; "groups" lists group names.
// Without a "groups" key the groups are unknown (Entra's overage), never an empty list.
identity identity_from_json(const boost::json::object& sample);

boost::json::object outcome_to_json(const outcome& o);

}  // namespace idgate::mapping
