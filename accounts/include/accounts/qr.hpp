// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// QR codes for TOTP enrolment (the otpauth:// URI an authenticator app scans). libqrencode stays in
// src/qr.cpp.
#include <string>
#include <string_view>
#include <vector>

namespace idgate::accounts::qr {

// The modules of the QR code for `text` (error correction M, byte mode), row by row; true = dark.
std::vector<std::vector<bool>> modules(std::string_view text);

// The same as an SVG image, one path, with the four-module quiet zone the standard asks for.
std::string svg(std::string_view text);

}  // namespace idgate::accounts::qr
