// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A SAML connection in service: its configuration as written, completed by the IdP's metadata. Metadata
// fetched from a URL is refetched on a schedule (the gateway calls refresh() from its blocking pool), so an
// IdP can add a signing certificate, and later drop the old one, without anyone touching idgate. A refresh
// that fails -- unreachable, not metadata, a bad or missing signature, another entity -- keeps the metadata
// in force and says why.
//
// Signed metadata (SAML metadata §3): with `metadata_signers_pem` configured, only metadata signed by one of
// them is taken. Without, the https fetch is the trust anchor; a signed document is still checked, against
// the certificates the connection trusts at that moment (so a refetch cannot swap in a key that the
// previous metadata did not vouch for), except on the very first fetch, which has nothing to check against.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "saml/service_provider.hpp"

namespace idgate::saml {

// GET `url` (https, or http on loopback), at most 1 MB, with a timeout; blocking. Throws
// saml_error("metadata_unavailable").
std::string fetch_metadata(const std::string& url, std::chrono::seconds timeout = std::chrono::seconds(10));

class connection {
public:
    using fetcher = std::function<std::string(const std::string& url)>;

    // With a metadata URL, fetches it now: throws saml_error when the first fetch fails (idgate does not
    // start with a connection it cannot describe).
    explicit connection(connection_config configured, fetcher fetch = [](const std::string& url) {
        return fetch_metadata(url);
    });

    // The configuration in force; a request keeps its copy even if a refresh swaps it meanwhile.
    std::shared_ptr<const connection_config> current() const;
    const connection_config& configured() const noexcept { return configured_; }
    bool refreshes() const noexcept { return !configured_.metadata_url.empty(); }

    struct refresh_result {
        bool changed = false;  // the metadata differs from what was in force
        std::string error;     // empty: fetched and taken; else why the previous metadata stays
        std::string code;      // the saml_error code of `error`
    };
    refresh_result refresh();

private:
    connection_config configured_;
    fetcher fetch_;
    mutable std::mutex mutex_;
    std::shared_ptr<const connection_config> current_;
    std::string metadata_;  // the document in force, to tell a change from a refetch of the same
};

}  // namespace idgate::saml
