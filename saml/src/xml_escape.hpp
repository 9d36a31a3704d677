// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <string>

namespace idgate::saml {

// Text and attribute values in the XML idgate writes (XML 1.0 §2.4).
inline std::string xml_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace idgate::saml
