// SPDX-License-Identifier: AGPL-3.0-or-later
#include "saml/service_provider.hpp"

#include <stdexcept>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "saml/logout.hpp"
#include "saml/response.hpp"
#include "pem.hpp"
#include "xml_escape.hpp"

namespace idgate::saml {

std::string sp_metadata(const std::string& entity_id, const std::string& acs_url, const std::string& name_id_format,
                        const std::string& encryption_certificate_pem, const std::string& slo_url) {
    std::string key_descriptor;
    if (!encryption_certificate_pem.empty()) {
        const std::string der_b64 = pem_body(encryption_certificate_pem);
        // No "use": the one key pair both signs idgate's requests and receives encrypted assertions.
        key_descriptor = "    <md:KeyDescriptor><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
                         "<ds:X509Data><ds:X509Certificate>" + der_b64 + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
                         "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>"
                         "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>"
                         "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>"
                         "</md:KeyDescriptor>\n";
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"" + xml_escape(entity_id) + "\">\n"
           "  <md:SPSSODescriptor AuthnRequestsSigned=\"" + std::string(encryption_certificate_pem.empty() ? "false" : "true") +
           "\" WantAssertionsSigned=\"true\" "
           "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n" + key_descriptor +
           (slo_url.empty() ? std::string()
                            : "    <md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
                              "Location=\"" + xml_escape(slo_url) + "\"/>\n"
                              "    <md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
                              "Location=\"" + xml_escape(slo_url) + "\"/>\n") +
           "    <md:NameIDFormat>" + xml_escape(name_id_format) + "</md:NameIDFormat>\n"
           "    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"" +
           xml_escape(acs_url) + "\" index=\"0\" isDefault=\"true\"/>\n"
           "  </md:SPSSODescriptor>\n"
           "</md:EntityDescriptor>\n";
}

connection_config with_metadata(const connection_config& configured, const idp_metadata& md) {
    connection_config c = configured;
    if (c.idp_entity_id.empty()) c.idp_entity_id = md.entity_id;
    else if (c.idp_entity_id != md.entity_id)
        throw saml_error("invalid_metadata", "the metadata describes '" + md.entity_id + "', not the configured '" +
                                                 c.idp_entity_id + "'");
    if (c.sso_url.empty()) {
        const bool post = c.requested_sso_binding ? *c.requested_sso_binding == binding::post : md.sso_redirect_url.empty();
        c.sso_url = post ? md.sso_post_url : md.sso_redirect_url;
        c.sso_binding = post ? binding::post : binding::redirect;
        if (c.sso_url.empty())
            throw saml_error("invalid_metadata", std::string("the metadata offers no HTTP-") +
                                                     (post ? "POST" : "Redirect") + " SingleSignOnService");
    }
    if (c.slo_url.empty()) {
        const bool post = md.slo_redirect_url.empty();
        c.slo_url = post ? md.slo_post_url : md.slo_redirect_url;
        c.slo_binding = post ? binding::post : binding::redirect;
    }
    c.certificates_pem.insert(c.certificates_pem.end(), md.certificates_pem.begin(), md.certificates_pem.end());
    return c;
}

std::string authn_request_xml(const std::string& sso_url, const std::string& request_id, const std::string& sp_entity_id,
                              const std::string& acs_url, const std::string& name_id_format, core::time_point now) {
    return "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
           "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + xml_escape(request_id) +
           "\" Version=\"2.0\" IssueInstant=\"" + core::format_timestamp(now) + "\" Destination=\"" + xml_escape(sso_url) +
           "\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" AssertionConsumerServiceURL=\"" +
           xml_escape(acs_url) + "\"><saml:Issuer>" + xml_escape(sp_entity_id) + "</saml:Issuer><samlp:NameIDPolicy Format=\"" +
           xml_escape(name_id_format) + "\" AllowCreate=\"true\"/></samlp:AuthnRequest>";
}

}  // namespace idgate::saml
