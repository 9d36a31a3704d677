// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The base64 DER inside a PEM certificate, as an X509Certificate element carries it (XML DSig §4.4.4).
#include <string>

namespace idgate::saml {

inline std::string pem_body(const std::string& pem) {
    std::string out;
    for (std::size_t at = 0; at < pem.size();) {
        const auto end = pem.find('\n', at);
        const auto line = pem.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (line.find("-----") == std::string::npos)
            for (const char c : line)
                if (c != '\r' && c != ' ') out.push_back(c);
        at = end == std::string::npos ? pem.size() : end + 1;
    }
    return out;
}

}  // namespace idgate::saml
