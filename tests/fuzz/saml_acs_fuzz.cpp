// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target for the SAML service provider's browser inputs: whatever a browser POSTs as SAMLResponse
// goes through the base64 decoding and the whole validation, and the same bytes as a Single Logout message
// (a POST form, a redirect query, and the logout XML itself). The only acceptable outcomes are a valid
// result or a saml_error; anything else (a crash, a sanitizer report, another exception) is a bug.
// Built with clang (-DIDGATE_FUZZ=ON); tools/test.sh runs it briefly on the committed corpus.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/clock.hpp"
#include "saml/logout.hpp"
#include "saml/response.hpp"

namespace {

// A trust and expectations like a real connection's: inputs can get as far as the signature check.
const idgate::saml::idp_trust trust{"https://idp.example.com/metadata",
                                    {"-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"},
                                    false};

idgate::saml::expectations expectations() {
    idgate::saml::expectations e;
    e.sp_entity_id = "https://sp.example.com/metadata";
    e.acs_url = "https://sp.example.com/acs";
    e.in_response_to = "_req1";
    e.now = *idgate::core::parse_timestamp("2026-11-22T12:00:30Z");
    return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto expected = expectations();
    const std::string input(reinterpret_cast<const char*>(data), size);
    // The form field first (base64), then the same bytes as XML: both paths see hostile input.
    for (int as_xml = 0; as_xml < 2; ++as_xml) {
        try {
            const auto xml = as_xml ? input : idgate::saml::decode_post_binding(input);
            idgate::saml::validate_response(xml, trust, expected);
        } catch (const idgate::saml::saml_error&) {
            // refused, with a reason: the expected outcome for almost everything
        }
    }
    // Single Logout: the POST binding (an enveloped signature checked like a response's), the redirect
    // binding (a query-string signature over a deflated message), and the logout XML parsers.
    const auto refused = [](auto&& read) {
        try {
            read();
        } catch (const idgate::saml::saml_error&) {
        }
    };
    refused([&] { idgate::saml::read_post(input, trust.certificates_pem); });
    refused([&] { idgate::saml::read_post("SAMLRequest=" + input + "&RelayState=x", trust.certificates_pem); });
    refused([&] { idgate::saml::read_redirect(input, trust.certificates_pem, true); });
    refused([&] { idgate::saml::parse_logout_request(input); });
    refused([&] { idgate::saml::parse_logout_response(input); });
    return 0;
}
