// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
#include <atomic>

#include "core/clock.hpp"

namespace idgate::test {

// A clock the test moves by hand.
class manual_clock final : public core::clock {
public:
    explicit manual_clock(core::time_point start = *core::parse_timestamp("2026-01-01T00:00:00.000Z"))
        : now_(start.time_since_epoch().count()) {}
    core::time_point now() const override { return core::time_point(std::chrono::milliseconds(now_.load())); }
    void advance(std::chrono::milliseconds d) { now_ += d.count(); }

private:
    std::atomic<long long> now_;
};

}  // namespace idgate::test
