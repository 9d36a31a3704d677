// SPDX-License-Identifier: AGPL-3.0-or-later
#include "saml/connection.hpp"

#include "saml/response.hpp"

namespace idgate::saml {

connection::connection(connection_config configured, fetcher fetch)
    : configured_(std::move(configured)), fetch_(std::move(fetch)) {
    if (!refreshes()) {
        current_ = std::make_shared<const connection_config>(configured_);
        return;
    }
    const auto first = refresh();
    if (!first.error.empty()) throw saml_error(first.code, first.error);
}

std::shared_ptr<const connection_config> connection::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

connection::refresh_result connection::refresh() {
    refresh_result out;
    if (!refreshes()) return out;
    try {
        const auto xml = fetch_(configured_.metadata_url);
        const auto in_force = current();
        if (in_force && xml == metadata_) return out;
        std::vector<std::string> signers = configured_.metadata_signers_pem;
        if (signers.empty() && in_force && metadata_is_signed(xml)) signers = in_force->certificates_pem;
        const auto md = parse_idp_metadata(xml, signers);
        // A URL that starts describing another IdP is a mistake or an attack, never a rollover.
        if (in_force && md.entity_id != in_force->idp_entity_id)
            throw saml_error("invalid_metadata", "the metadata now describes '" + md.entity_id + "', not '" +
                                                     in_force->idp_entity_id + "'");
        auto next = std::make_shared<const connection_config>(with_metadata(configured_, md));
        for (const auto& pem : next->certificates_pem)
            if (!certificate_usable(pem)) throw saml_error("invalid_metadata", "a signing certificate cannot be read");
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
        metadata_ = xml;
        out.changed = true;
    } catch (const saml_error& e) {
        out.code = e.code();
        out.error = e.what();
    }
    return out;
}

}  // namespace idgate::saml
