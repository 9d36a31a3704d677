// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Strict reading of the YAML files admins edit (idgate.yaml, mapping files): typed values, known keys
// only, every error as "file:line:column: 'dotted.key': message". ${VAR} and ${VAR:-default} take values
// from the environment. Only the adapters that read those files include this (yaml-cpp stays there).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace idgate::core::yaml {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Reads typed values out of YAML nodes, failing with file:line:column and the dotted key path.
class reader {
public:
    explicit reader(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& message) const {
        const auto mark = node.Mark();
        std::ostringstream out;
        out << source_;
        if (mark.line >= 0) out << ':' << (mark.line + 1) << ':' << (mark.column + 1);
        out << ": " << (path.empty() ? "" : "'" + path + "': ") << message;
        throw error(out.str());
    }

    // Requires a mapping whose keys are all in `allowed`; calls `visit(key, value, path)` for each.
    template <typename Visit>
    void map(const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> allowed,
             Visit&& visit) const {
        if (node.IsNull()) return;  // an empty section keeps the defaults
        if (!node.IsMap()) fail(node, path, "expected a mapping of keys to values");
        for (const auto& entry : node) {
            const std::string key = entry.first.as<std::string>();
            const std::string child = path.empty() ? key : path + "." + key;
            bool known = false;
            for (auto a : allowed) known = known || a == key;
            if (!known) {
                std::string list;
                for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                fail(entry.first, child, "unknown key (expected one of: " + list + ")");
            }
            visit(key, entry.second, child);
        }
    }

    std::string string(const YAML::Node& node, const std::string& path) const {
        if (!node.IsScalar()) fail(node, path, "expected a string");
        return expand_env(node, path, node.Scalar());
    }

    long long integer(const YAML::Node& node, const std::string& path, long long min, long long max) const {
        if (!node.IsScalar()) fail(node, path, "expected an integer");
        const std::string& text = node.Scalar();
        long long value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || ptr != text.data() + text.size())
            fail(node, path, "expected an integer, got '" + text + "'");
        if (value < min || value > max)
            fail(node, path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return value;
    }

    bool boolean(const YAML::Node& node, const std::string& path) const {
        if (node.IsScalar()) {
            if (node.Scalar() == "true") return true;
            if (node.Scalar() == "false") return false;
        }
        fail(node, path, "expected true or false");
    }

private:
    // ${VAR} and ${VAR:-default}. An unset variable without a default is an error: a secret that
    // silently became "" would be worse.
    std::string expand_env(const YAML::Node& node, const std::string& path, const std::string& text) const {
        std::string out;
        for (std::size_t i = 0; i < text.size();) {
            if (text.compare(i, 2, "${") != 0) {
                out += text[i++];
                continue;
            }
            const auto close = text.find('}', i);
            if (close == std::string::npos) fail(node, path, "unterminated ${...} in value");
            std::string name = text.substr(i + 2, close - i - 2), fallback;
            bool has_default = false;
            if (auto sep = name.find(":-"); sep != std::string::npos) {
                fallback = name.substr(sep + 2);
                name.resize(sep);
                has_default = true;
            }
            if (name.empty()) fail(node, path, "empty variable name in ${...}");
            if (const char* value = std::getenv(name.c_str()); value && *value)
                out += value;
            else if (has_default)
                out += fallback;
            else
                fail(node, path, "environment variable " + name + " is not set");
            i = close + 1;
        }
        return out;
    }

    std::string source_;
};

}  // namespace idgate::core::yaml
