// SPDX-License-Identifier: AGPL-3.0-or-later
#include "provisioning/connection_gate.hpp"

#include "core/http.hpp"
#include "core/log.hpp"

namespace idgate::provisioning {
namespace {

core::http_error conflict(const std::string& detail) {
    // RFC 7644 §3.3: the IdP sees a uniqueness conflict, with words its admin can act on.
    return core::http_error(409, "uniqueness", detail).with_scim_type("uniqueness");
}

std::string primary_email(const schema::user& u) {
    for (const auto& e : u.emails)
        if (e.primary) return e.value;
    return u.emails.empty() ? std::string() : u.emails.front().value;
}

std::string sources_of(const mapping::rule_set& rules, mapping::field f) {
    for (const auto& a : rules.attributes) {
        if (a.target != f) continue;
        std::string out;
        for (const auto& s : a.sources) out += (out.empty() ? "" : ", ") + s;
        return out;
    }
    return {};
}

}  // namespace

namespace {

void set_field(schema::user& u, mapping::field f, const std::string& value) {
    using mapping::field;
    switch (f) {
        case field::user_name: u.user_name = value; break;
        case field::given_name: u.name.given_name = value; break;
        case field::family_name: u.name.family_name = value; break;
        case field::display_name: u.display_name = value; break;
        case field::title: u.title = value; break;
        case field::department: u.department = value; break;
        case field::locale: u.locale = value; break;
        case field::external_id: u.external_id = value; break;
        case field::email: {
            for (auto& e : u.emails)
                if (e.primary) {
                    e.value = value;
                    return;
                }
            if (!u.emails.empty()) {
                u.emails.front().value = value;
                u.emails.front().primary = true;
            } else {
                u.emails.push_back({value, "work", "", true});
            }
            break;
        }
    }
}

}  // namespace

void apply_mapped_fields(const mapping::outcome& o, schema::user& u) {
    for (const auto& [f, value] : o.fields) set_field(u, f, value);
}

connection_gate::connection_gate(store::store& db, reconciler& reconciler,
                                 std::shared_ptr<const mapping::snapshot> rules, connection_ref connection,
                                 const scim::extension_registry& extensions, schema::actor actor)
    : db_(db),
      reconciler_(reconciler),
      rules_(std::move(rules)),
      file_(rules_ ? rules_->find(connection.organization_slug, connection.connection_name) : nullptr),
      connection_(std::move(connection)),
      extensions_(extensions),
      actor_(std::move(actor)) {}

mapping::connection_policy connection_gate::policy() const { return file_ ? file_->policy : mapping::connection_policy{}; }

void connection_gate::prepare(schema::user& u) const {
    if (!file_) return;
    const auto outcome = mapping::evaluate(file_->rules, identity_of(u, extensions_));
    if (!outcome.missing_required.empty()) {
        std::string detail = "the mapping rules of connection '" + connection_.connection_name + "' require ";
        for (std::size_t i = 0; i < outcome.missing_required.size(); ++i) {
            const auto f = outcome.missing_required[i];
            detail += (i ? "; " : "") + std::string(mapping::to_string(f)) + " (from " + sources_of(file_->rules, f) + ")";
        }
        throw core::http_error(400, "invalid_value", detail + ", which this request does not provide")
            .with_scim_type("invalidValue");
    }
    apply_mapped_fields(outcome, u);
}

bool connection_gate::manages(const schema::user& existing) const {
    const auto h = db_.identities().holder_of(connection_.organization_id, connection_.connection_id, existing.id);
    // An account no connection holds and nobody can sign in to locally (pushed by a SCIM client before it
    // had a connection) is adopted: there is no one to take it from.
    return h && (*h == store::provisioning::holder::this_connection || *h == store::provisioning::holder::nobody);
}

void connection_gate::claim(const schema::user& existing, const schema::user& incoming,
                            const std::string& body_json) const {
    const auto& name = connection_.connection_name;
    const auto h = db_.identities().holder_of(connection_.organization_id, connection_.connection_id, existing.id);
    const bool elsewhere = h && *h == store::provisioning::holder::other_connection;
    const std::string who = "userName '" + existing.user_name + "'";
    const std::string subject = incoming.external_id.empty() ? "user:" + existing.id : incoming.external_id;
    const auto p = policy().on_conflict;
    using policy_kind = mapping::connection_policy::conflict_policy;
    if (elsewhere)
        throw conflict(who + " belongs to an idgate account managed by another identity-provider connection; "
                             "connection '" + name + "' cannot take it over. Rename the user in the identity provider, "
                             "or remove the account from the other connection first.");
    if (p == policy_kind::link_verified_email) {
        const bool same_address = !primary_email(incoming).empty() &&
                                  schema::case_fold(primary_email(incoming)) == schema::case_fold(primary_email(existing));
        if (same_address && db_.identities().email_verified(connection_.organization_id, existing.id)) {
            auto bound = db_.identities().bind(connection_.organization_id, connection_.connection_id, subject,
                                               existing.id, actor_);
            if (bound) {
                core::log::info("identity linked by verified email",
                                {{"connection", name}, {"user", existing.user_name}});
                return;
            }
            throw conflict("externalId '" + subject + "' already identifies another user of connection '" + name + "'");
        }
        throw conflict(who + " belongs to an existing local idgate account whose owner has not verified the same "
                             "email address, so connection '" + name + "' cannot link it (identity_conflicts: "
                             "link_verified_email). Use another userName, or have an idgate admin link it.");
    }
    if (p == policy_kind::queue) {
        store::identity_conflict c;
        c.organization_id = connection_.organization_id;
        c.connection_id = connection_.connection_id;
        c.subject = subject;
        c.existing_user_id = existing.id;
        c.existing_user_name = existing.user_name;
        c.reason = schema::case_fold(existing.user_name) == schema::case_fold(incoming.user_name)
                       ? "same userName"
                       : "same email address";
        c.proposed_json = body_json;
        auto held = db_.identities().record_conflict(c, actor_);
        throw conflict(who + " belongs to an existing local idgate account. The link is waiting for an idgate "
                             "admin's approval as identity conflict " + (held ? held->id : std::string("?")) +
                             "; once approved, the next provisioning attempt succeeds.");
    }
    throw conflict(who + " belongs to an existing local idgate account that connection '" + name +
                   "' does not manage. idgate does not take accounts over: rename the user in the identity "
                   "provider, or ask an idgate admin to allow linking (mapping identity_conflicts: "
                   "link_verified_email or queue).");
}

std::vector<schema::user> connection_gate::email_collisions(const schema::user& incoming) const {
    std::vector<schema::user> out;
    const auto email = primary_email(incoming);
    if (email.empty()) return out;
    for (const auto& id : db_.identities().users_with_email(connection_.organization_id, email)) {
        auto u = db_.get_user(connection_.organization_id, id);
        if (!u) continue;
        // Users of this connection may share an address (SCIM never dedupes on email); accounts it
        // does not manage may not be shadowed by a new one with the same address.
        const auto h = db_.identities().holder_of(connection_.organization_id, connection_.connection_id, id);
        if (h && *h == store::provisioning::holder::local) out.push_back(std::move(*u));
    }
    return out;
}

scim::identity_gate::deprovision connection_gate::on_deactivate() const {
    return policy().on_deactivate == mapping::connection_policy::deprovision::remove ? deprovision::remove
                                                                                     : deprovision::disable;
}

scim::identity_gate::deprovision connection_gate::on_delete() const {
    return policy().on_delete == mapping::connection_policy::deprovision::remove ? deprovision::remove
                                                                                 : deprovision::disable;
}

void connection_gate::settle(const std::vector<std::string>& user_ids) const {
    if (!rules_) return;
    try {
        reconciler_.drain_users(*rules_, user_ids);
    } catch (const std::exception& e) {
        // The write stands; the queue keeps the evaluation for the background reconciler.
        core::log::warn("mapping: reconciliation after a write deferred", {{"error", e.what()}});
    }
}

}  // namespace idgate::provisioning
