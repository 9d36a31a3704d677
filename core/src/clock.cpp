// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/clock.hpp"

#include <charconv>
#include <cstdio>

namespace idgate::core {

time_point system_clock::now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_timestamp(time_point t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const int year = static_cast<int>(ymd.year());
    const auto ms = static_cast<long>((t - day).count());  // 0 .. 86'399'999
    if (year < 0 || year > 9999) {
        // Beyond the four digits of xsd:dateTime's common form: printf's widening, once in ten thousand years.
        const hh_mm_ss hms{t - day};
        char wide[48];
        std::snprintf(wide, sizeof wide, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                      static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
        return wide;
    }
    // Every SCIM resource carries two of these (meta.created, meta.lastModified): written digit by digit,
    // not through snprintf, which cost more than the rest of a user's JSON rendering.
    std::string out = "0000-00-00T00:00:00.000Z";
    const auto put = [&out](std::size_t at, long value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10) out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    put(0, year, 4);
    put(5, static_cast<long>(static_cast<unsigned>(ymd.month())), 2);
    put(8, static_cast<long>(static_cast<unsigned>(ymd.day())), 2);
    put(11, ms / 3'600'000, 2);
    put(14, ms / 60'000 % 60, 2);
    put(17, ms / 1000 % 60, 2);
    put(20, ms % 1000, 3);
    return out;
}

namespace {
bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    const char* first = s.data() + pos;
    auto [ptr, ec] = std::from_chars(first, first + len, out);
    return ec == std::errc{} && ptr == first + len;
}
}  // namespace

std::optional<time_point> parse_timestamp(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    if (!read_int(s, 0, 4, y) || !read_int(s, 5, 2, mo) || !read_int(s, 8, 2, d) || !read_int(s, 11, 2, h) ||
        !read_int(s, 14, 2, mi) || !read_int(s, 17, 2, sec))
        return std::nullopt;
    std::size_t pos = 19;
    if (s[pos] == '.') {
        // 1-9 fractional digits (xsd:dateTime allows any number; ADFS writes 7); milliseconds are kept.
        std::size_t digits = 0;
        while (pos + 1 + digits < s.size() && s[pos + 1 + digits] >= '0' && s[pos + 1 + digits] <= '9') {
            if (digits < 3) ms = ms * 10 + (s[pos + 1 + digits] - '0');
            ++digits;
        }
        if (digits == 0 || digits > 9) return std::nullopt;
        for (std::size_t i = digits; i < 3; ++i) ms *= 10;
        pos += 1 + digits;
    }
    // The zone: Z, or an offset +hh:mm / -hh:mm (xsd:dateTime, RFC 3339 §5.6), converted to UTC.
    int offset_minutes = 0;
    if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (!read_int(s, pos + 1, 2, oh) || !read_int(s, pos + 4, 2, om) || oh > 14 || om > 59) return std::nullopt;
        offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    } else if (pos + 1 != s.size() || s[pos] != 'Z') {
        return std::nullopt;
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
    return time_point{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi - offset_minutes} + seconds{sec} +
                      milliseconds{ms}};
}

}  // namespace idgate::core
