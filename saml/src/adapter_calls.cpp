// SPDX-License-Identifier: AGPL-3.0-or-later
// The SAML functions whose code is in idgate_saml_adapter.so (src/adapter.hpp): each opens the adapter
// at its first call and forwards to it. Loading the configuration checks the connections' certificates,
// so a deployment with SAML connections opens it at start-up and one without never does.
#include "adapter.hpp"

#include "core/adapter.hpp"

namespace idgate::saml {
namespace {

const detail::xml_adapter& adapter() {
    static const auto& table = core::adapter::table<detail::xml_adapter>("saml");
    return table;
}

}  // namespace

assertion validate_response(const std::string& xml, const idp_trust& trust, const expectations& expected) {
    return adapter().validate_response(xml, trust, expected);
}

std::string decode_post_binding(const std::string& field, std::size_t max_bytes) {
    return adapter().decode_post_binding(field, max_bytes);
}

bool certificate_usable(const std::string& pem) { return adapter().certificate_usable(pem); }

void initialise() { adapter().initialise(); }

idp_metadata parse_idp_metadata(const std::string& xml, const std::vector<std::string>& trusted_pem) {
    return adapter().parse_idp_metadata(xml, trusted_pem);
}

bool metadata_is_signed(const std::string& xml) { return adapter().metadata_is_signed(xml); }

logout_request parse_logout_request(const std::string& xml) { return adapter().parse_logout_request(xml); }

logout_response parse_logout_response(const std::string& xml) { return adapter().parse_logout_response(xml); }

std::string sign_xml(const std::string& xml, const std::string& private_key_pem, const std::string& certificate_pem) {
    return adapter().sign_xml(xml, private_key_pem, certificate_pem);
}

inbound_message read_post(const std::string& form_body, const std::vector<std::string>& certificates_pem,
                          bool allow_sha1) {
    return adapter().read_post(form_body, certificates_pem, allow_sha1);
}

post_form post_message(const std::string& endpoint, const std::string& parameter, const std::string& xml,
                       const std::string& relay_state, const std::string& private_key_pem,
                       const std::string& certificate_pem) {
    return adapter().post_message(endpoint, parameter, xml, relay_state, private_key_pem, certificate_pem);
}

std::string fetch_metadata(const std::string& url, std::chrono::seconds timeout) {
    return adapter().fetch_metadata(url, timeout);
}

}  // namespace idgate::saml
