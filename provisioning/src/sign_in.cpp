// SPDX-License-Identifier: AGPL-3.0-or-later
#include "provisioning/sign_in.hpp"

#include "core/http.hpp"
#include "core/log.hpp"
#include "store/provisioning.hpp"

namespace idgate::provisioning {
namespace {

sign_in_result refuse(std::string code, std::string detail) { return {"", "", std::move(code), std::move(detail)}; }

std::string field_or(const mapping::outcome& o, mapping::field f, const std::string& fallback = {}) {
    const auto it = o.fields.find(f);
    return it == o.fields.end() ? fallback : it->second;
}

}  // namespace

sign_in_result sign_in(store::store& db, reconciler& reconciler, std::shared_ptr<const mapping::snapshot> rules,
                       const connection_ref& connection, const std::string& subject, const mapping::identity& who,
                       const schema::actor& actor) {
    const auto* file = rules->find(connection.organization_slug, connection.connection_name);
    const mapping::rule_set no_rules;
    const auto outcome = mapping::evaluate(file ? file->rules : no_rules, who);
    if (outcome.denied)
        return refuse(outcome.denied_unknown ? "groups_unknown" : "denied_by_rule",
                      "rule '" + outcome.denied_by + "' " +
                          (outcome.denied_unknown ? "could not be evaluated (the IdP did not send the groups); deny "
                                                    "rules fail closed"
                                                  : "denies sign-in"));
    if (!outcome.missing_required.empty()) {
        std::string names;
        for (auto f : outcome.missing_required) names += (names.empty() ? "" : ", ") + std::string(mapping::to_string(f));
        return refuse("missing_attribute", "required by the mapping rules but not sent: " + names);
    }
    // The binding key: the mapped external id when there is one (shared with SCIM), else the protocol's.
    const std::string key = field_or(outcome, mapping::field::external_id, subject);
    schema::actor by = actor;
    by.connection_id = connection.connection_id;
    auto& ids = db.identities();

    std::string user_id;
    if (const auto bound = ids.bound_user(connection.connection_id, key)) {
        auto current = db.get_user(connection.organization_id, *bound);
        if (!current) return refuse("internal", "the bound user vanished");
        if (!current->active) return refuse("account_disabled", "the account is disabled");
        schema::user next = *current;
        apply_mapped_fields(outcome, next);
        next.external_id = key;
        if (next.user_name.empty()) next.user_name = current->user_name;
        auto stored = db.update_user(next, current->version, by);
        if (!stored && stored.error() == store::errc::already_exists)
            return refuse("user_name_taken", "the new userName '" + next.user_name + "' belongs to another account");
        if (!stored) return refuse("internal", "could not update the user: " + stored.error().message());
        user_id = stored->id;
    } else {
        schema::user u;
        u.organization_id = connection.organization_id;
        apply_mapped_fields(outcome, u);
        u.external_id = key;
        if (u.user_name.empty()) {
            // No user_name mapping: the email, else the subject (a stable, if unfriendly, name).
            for (const auto& e : u.emails)
                if (e.primary) u.user_name = e.value;
            if (u.user_name.empty()) u.user_name = key;
        }
        // An account the connection does not manage, with this userName or email, is not taken over.
        std::optional<schema::user> existing;
        if (auto by_name = db.find_user_by_user_name(connection.organization_id, u.user_name)) existing = *by_name;
        if (!existing && !u.emails.empty())
            for (const auto& id : ids.users_with_email(connection.organization_id, u.emails.front().value))
                if (auto h = ids.holder_of(connection.organization_id, connection.connection_id, id);
                    h && *h == store::provisioning::holder::local) {
                    existing = db.get_user(connection.organization_id, id).value();
                    break;
                }
        if (existing) {
            const connection_gate gate(db, reconciler, rules, connection, reconciler.extensions(), by);
            if (!gate.manages(*existing)) {
                try {
                    gate.claim(*existing, u, "{}");
                } catch (const core::http_error& e) {
                    const bool queued = file && file->policy.on_conflict ==
                                                    mapping::connection_policy::conflict_policy::queue;
                    return refuse(queued ? "pending_approval" : "account_exists", e.detail());
                }
            }
            if (!existing->active) return refuse("account_disabled", "the account is disabled");
            schema::user next = *existing;
            apply_mapped_fields(outcome, next);
            // An account pushed by SCIM keeps the externalId its IdP gave it (and its binding by it); map
            // `external_id` from the claim that carries the same id to make sign-ins find it directly.
            next.external_id = existing->external_id.empty() ? key : existing->external_id;
            auto stored = db.update_user(next, existing->version, by);
            if (!stored) return refuse("internal", "could not link the account: " + stored.error().message());
            user_id = stored->id;
        } else {
            auto created = db.create_user(u, by);
            if (!created && created.error() == store::errc::already_exists)
                return refuse("user_name_taken", "userName '" + u.user_name + "' is taken");
            if (!created) return refuse("internal", "could not create the user: " + created.error().message());
            user_id = created->id;
            core::log::info("just-in-time provisioned",
                            {{"connection", connection.connection_name}, {"user", u.user_name}});
        }
    }
    // Keep what the IdP said (rule changes are evaluated on it later), then grant now, so that the
    // session's first request sees the mapped roles.
    ids.set_sign_in_identity(connection.connection_id, user_id, identity_to_json(who));
    reconciler.drain_users(*rules, {user_id});
    const auto user = db.get_user(connection.organization_id, user_id);
    return {user_id, user ? user->user_name : std::string(), "", ""};
}

}  // namespace idgate::provisioning
