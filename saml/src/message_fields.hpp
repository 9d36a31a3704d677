// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SAML fields of a browser binding's message (bindings §3.4.4, §3.5.4): a redirect's query or a
// POST's form, with exactly one SAMLRequest or SAMLResponse.
#include <string>

#include "core/form.hpp"
#include "saml/response.hpp"

namespace idgate::saml {

struct message_fields {
    std::string message;  // the SAMLRequest or SAMLResponse value
    bool is_request = false;
    std::string relay_state, sig_alg, signature;
};

// Throws saml_error("malformed_request").
inline message_fields read_message_fields(const std::string& encoded) {
    const auto fields = core::parse_form(encoded);
    if (!fields) throw saml_error("malformed_request", "the message is not a well-formed query or form");
    message_fields out;
    for (const auto& [name, value] : *fields) {
        if (name == "SAMLRequest" || name == "SAMLResponse") {
            if (!out.message.empty()) throw saml_error("malformed_request", "more than one SAML message");
            out.message = value;
            out.is_request = name == "SAMLRequest";
        } else if (name == "RelayState") {
            out.relay_state = value;
        } else if (name == "SigAlg") {
            out.sig_alg = value;
        } else if (name == "Signature") {
            out.signature = value;
        }
    }
    if (out.message.empty()) throw saml_error("malformed_request", "no SAMLRequest or SAMLResponse");
    return out;
}

}  // namespace idgate::saml
