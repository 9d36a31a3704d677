// SPDX-License-Identifier: AGPL-3.0-or-later
#include "saml/service_provider.hpp"

#include <zlib.h>

#include <stdexcept>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "xml_escape.hpp"

namespace idgate::saml {
namespace {

// Raw DEFLATE (RFC 1951), as the HTTP-Redirect binding wants it (SAML bindings §3.4.4.1).
std::string deflate_raw(const std::string& in) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflate initialisation failed");
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(z.total_out);
    return out;
}

std::string base64(const std::string& bytes) {
    std::string b = core::base64url_encode(bytes);
    for (auto& c : b) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (b.size() % 4) b += '=';
    return b;
}

}  // namespace

std::string sp_metadata(const std::string& entity_id, const std::string& acs_url, const std::string& name_id_format) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"" + xml_escape(entity_id) + "\">\n"
           "  <md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" "
           "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n"
           "    <md:NameIDFormat>" + xml_escape(name_id_format) + "</md:NameIDFormat>\n"
           "    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"" +
           xml_escape(acs_url) + "\" index=\"0\" isDefault=\"true\"/>\n"
           "  </md:SPSSODescriptor>\n"
           "</md:EntityDescriptor>\n";
}

std::string authn_request_url(const std::string& sso_url, const std::string& request_id, const std::string& sp_entity_id,
                              const std::string& acs_url, const std::string& name_id_format,
                              const std::string& relay_state, core::time_point now) {
    auto instant = core::format_timestamp(now);  // "2026-01-31T12:00:00.000Z"
    const std::string request =
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
        "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + xml_escape(request_id) +
        "\" Version=\"2.0\" IssueInstant=\"" + instant + "\" Destination=\"" + xml_escape(sso_url) +
        "\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" AssertionConsumerServiceURL=\"" +
        xml_escape(acs_url) + "\"><saml:Issuer>" + xml_escape(sp_entity_id) + "</saml:Issuer><samlp:NameIDPolicy Format=\"" +
        xml_escape(name_id_format) + "\" AllowCreate=\"true\"/></samlp:AuthnRequest>";
    return sso_url + (sso_url.find('?') == std::string::npos ? "?" : "&") +
           core::form_encode({{"SAMLRequest", base64(deflate_raw(request))}, {"RelayState", relay_state}});
}

}  // namespace idgate::saml
