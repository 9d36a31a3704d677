// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/qr.hpp"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace idgate::accounts::qr {

std::vector<std::vector<bool>> modules(std::string_view text) {
    const std::string input{text};  // libqrencode wants a NUL-terminated string
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!code) throw std::runtime_error("could not encode the QR code");
    const auto width = static_cast<std::size_t>(code->width);
    std::vector<std::vector<bool>> out(width, std::vector<bool>(width));
    for (std::size_t y = 0; y < width; ++y)
        for (std::size_t x = 0; x < width; ++x) out[y][x] = (code->data[y * width + x] & 1) != 0;
    return out;
}

std::string svg(std::string_view text) {
    const auto m = modules(text);
    constexpr std::size_t quiet = 4;
    const std::size_t size = m.size() + 2 * quiet;
    std::string path;
    for (std::size_t y = 0; y < m.size(); ++y)
        for (std::size_t x = 0; x < m.size(); ++x)
            if (m[y][x]) path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h1v1h-1z";
    const std::string n = std::to_string(size);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + n + " " + n +
           "\" width=\"" + std::to_string(size * 6) + "\" height=\"" + std::to_string(size * 6) +
           "\" shape-rendering=\"crispEdges\"><rect width=\"" + n + "\" height=\"" + n +
           "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace idgate::accounts::qr
