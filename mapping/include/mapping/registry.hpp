// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The mapping rules in force: a snapshot of the mapping directory, swapped whole. A reload reads and
// checks every file first; only a fully valid directory replaces the snapshot, so no request ever sees
// half-loaded rules, and a bad edit leaves the last good rules working (and says why). Requests hold the
// snapshot they started with until they finish.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "mapping/file.hpp"

namespace idgate::mapping {

struct snapshot {
    std::vector<mapping_file> files;
    std::uint64_t generation = 0;  // 1 for the first load, +1 per successful reload
    core::time_point loaded_at{};
    const mapping_file* find(std::string_view organization, std::string_view connection) const;
};

struct registry_status {
    std::string directory;
    std::uint64_t generation = 0;
    core::time_point loaded_at{};
    std::uint64_t reloads = 0, failed_reloads = 0;
    std::optional<std::string> last_error;  // the latest failed reload's message, until a reload succeeds
    std::optional<core::time_point> last_error_at;
};

class registry {
public:
    // No directory: no rules (an empty snapshot), and reloads are no-ops.
    registry(std::string directory, const core::clock& clock);

    // Reads the directory; on success swaps the snapshot in and returns nullopt, otherwise keeps the
    // current one and returns the error. Thread-safe; concurrent reloads run one at a time.
    std::optional<std::string> reload();
    // Reloads when a file was added, removed or changed (by name, size and modification time) since the
    // last look: the cheap check a timer can run every few seconds.
    std::optional<std::string> reload_if_changed();

    std::shared_ptr<const snapshot> current() const;
    registry_status status() const;
    const std::string& directory() const { return directory_; }

private:
    std::string fingerprint() const;

    const std::string directory_;
    const core::clock& clock_;
    mutable std::mutex mutex_;  // guards current_ and status_; reload_mutex_ serialises reloads
    std::mutex reload_mutex_;
    std::shared_ptr<const snapshot> current_;
    registry_status status_;
    std::string fingerprint_;
};

}  // namespace idgate::mapping
