// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mapping/registry.hpp"

#include <algorithm>
#include <filesystem>

namespace idgate::mapping {

const mapping_file* snapshot::find(std::string_view organization, std::string_view connection) const {
    for (const auto& f : files)
        if (f.organization == organization && f.connection == connection) return &f;
    return nullptr;
}

registry::registry(std::string directory, const core::clock& clock)
    : directory_(std::move(directory)), clock_(clock), current_(std::make_shared<snapshot>()) {
    status_.directory = directory_;
}

std::optional<std::string> registry::reload() {
    if (directory_.empty()) return std::nullopt;
    std::lock_guard serial(reload_mutex_);
    const auto seen = fingerprint();
    try {
        auto next = std::make_shared<snapshot>();
        next->files = load_mapping_directory(directory_);  // all files valid, or an exception
        next->loaded_at = clock_.now();
        std::lock_guard lock(mutex_);
        next->generation = current_->generation + 1;
        current_ = std::move(next);
        fingerprint_ = seen;
        ++status_.reloads;
        status_.generation = current_->generation;
        status_.loaded_at = current_->loaded_at;
        status_.last_error.reset();
        status_.last_error_at.reset();
        return std::nullopt;
    } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        fingerprint_ = seen;  // do not retry the same broken files on every tick
        ++status_.failed_reloads;
        status_.last_error = e.what();
        status_.last_error_at = clock_.now();
        return std::string(e.what());
    }
}

std::optional<std::string> registry::reload_if_changed() {
    if (directory_.empty()) return std::nullopt;
    const auto now = fingerprint();  // outside the lock: requests reading current() never wait on the disk
    {
        std::lock_guard lock(mutex_);
        if (now == fingerprint_) return std::nullopt;
    }
    return reload();
}

std::shared_ptr<const snapshot> registry::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

registry_status registry::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

std::string registry::fingerprint() const {
    std::vector<std::string> entries;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
        const auto ext = it->path().extension().string();
        if (ext != ".yaml" && ext != ".yml") continue;
        std::error_code e1, e2;
        const auto size = std::filesystem::file_size(it->path(), e1);
        const auto mtime = std::filesystem::last_write_time(it->path(), e2).time_since_epoch().count();
        entries.push_back(it->path().filename().string() + ":" + std::to_string(e1 ? 0 : size) + ":" +
                          std::to_string(e2 ? 0 : mtime));
    }
    if (ec) return "unreadable:" + ec.message();
    std::sort(entries.begin(), entries.end());
    std::string out;
    for (const auto& e : entries) out += e + "\n";
    return out;
}

}  // namespace idgate::mapping
