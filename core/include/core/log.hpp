// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Structured logging: one JSON object per line on stderr. Never pass secrets, tokens, passwords, SAML
// responses or whole request bodies as fields: log attribute names and ids, not values.
//
// Lines are buffered and written by a background thread (at most ~100 ms late, or at once for warnings
// and errors), so the access log does not cost a system call per request. `flush()` runs at shutdown.
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <variant>

namespace idgate::core::log {

enum class level { debug, info, warn, error };

struct field {
    std::string_view key;
    std::variant<std::string_view, std::int64_t, double, bool> value;

    field(std::string_view k, std::string_view v) : key(k), value(v) {}
    field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
    field(std::string_view k, bool v) : key(k), value(v) {}
    field(std::string_view k, double v) : key(k), value(v) {}
    template <typename I>
        requires std::is_integral_v<I>
    field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
};

void set_level(level min_level);
bool enabled(level l);
// Parses "debug" | "info" | "warn" | "error".
bool parse_level(std::string_view text, level& out);

void write(level l, std::string_view message, std::initializer_list<field> fields = {});
inline void debug(std::string_view m, std::initializer_list<field> f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<field> f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<field> f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<field> f = {}) { write(level::error, m, f); }

// Writes everything buffered so far. Safe to call from any thread.
void flush();

}  // namespace idgate::core::log
