// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// An injectable clock. Everything that stamps or compares times (storage timestamps, token expiry,
// SAML NotOnOrAfter, invitation expiry) takes a `clock&` so tests can pin time instead of sleeping.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace idgate::core {

using time_point = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class clock {
public:
    virtual ~clock() = default;
    virtual time_point now() const = 0;
};

// The wall clock, at millisecond precision (the precision we store).
class system_clock final : public clock {
public:
    time_point now() const override;
};

// RFC 3339 / ISO 8601 in UTC with milliseconds, e.g. "2026-11-22T08:21:01.123Z". Fixed width, so the
// text sorts in time order: storage keeps timestamps in this form on every backend.
std::string format_timestamp(time_point t);

// Parses xsd:dateTime as SCIM and SAML send it: the form format_timestamp() writes, with any fraction
// (milliseconds kept) or none, and Z or a +hh:mm / -hh:mm offset (converted to UTC).
std::optional<time_point> parse_timestamp(std::string_view text);

}  // namespace idgate::core
