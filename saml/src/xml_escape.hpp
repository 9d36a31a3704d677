// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <string>

#include "core/form.hpp"

namespace idgate::saml {

// Text and attribute values in the XML idgate writes (XML 1.0 §2.4).
inline std::string xml_escape(const std::string& text) { return core::markup_escape(text); }

}  // namespace idgate::saml
