// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"

namespace idgate::core::log {
namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};

std::string_view level_name(level l) {
    switch (l) {
        case level::debug: return "debug";
        case level::info: return "info";
        case level::warn: return "warn";
        case level::error: return "error";
    }
    return "info";
}

// RFC 8259 §7 string escaping, straight into the line (no temporary per field).
void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += ch;
        }
    }
    out += '"';
}

void write_all(const std::string& data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;  // nowhere left to report a logging failure
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// The buffer and its writer thread. The thread is started on first use and flushes on exit.
class sink {
public:
    sink() : writer_([this] { run(); }) {}
    ~sink() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        writer_.join();
        flush();
    }

    void append(std::string_view line, bool urgent) {
        bool big = false;
        {
            std::lock_guard lock(mutex_);
            buffer_.append(line);
            big = buffer_.size() > 64 * 1024;
        }
        if (urgent || big) flush();
    }

    void flush() {
        std::lock_guard write_lock(write_mutex_);
        std::string out;
        {
            std::lock_guard lock(mutex_);
            out.swap(buffer_);
        }
        if (!out.empty()) write_all(out);
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, std::chrono::milliseconds(100));
            lock.unlock();
            flush();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::mutex write_mutex_;  // keeps concurrent flushes in order
    std::condition_variable wake_;
    std::string buffer_;
    bool stopping_ = false;
    std::thread writer_;
};

sink& the_sink() {
    static sink s;
    return s;
}

}  // namespace

void set_level(level l) { min_level.store(static_cast<int>(l)); }

bool enabled(level l) { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, level& out) {
    for (level l : {level::debug, level::info, level::warn, level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

void write(level l, std::string_view message, std::initializer_list<field> fields) {
    if (!enabled(l)) return;
    std::string line;
    line.reserve(256);
    line += "{\"ts\":\"";
    // Formatting a timestamp costs more than the rest of an access line: reuse it within a millisecond.
    thread_local time_point last_time{};
    thread_local std::string last_text;
    const auto now = system_clock{}.now();
    if (now != last_time || last_text.empty()) {
        last_time = now;
        last_text = format_timestamp(now);
    }
    line += last_text;
    line += "\",\"level\":\"";
    line += level_name(l);
    line += "\",\"msg\":";
    append_json_string(line, message);
    for (const auto& f : fields) {
        line += ',';
        append_json_string(line, f.key);
        line += ':';
        std::visit(
            [&line](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string_view>)
                    append_json_string(line, v);
                else if constexpr (std::is_same_v<T, bool>)
                    line += v ? "true" : "false";
                else {
                    char buf[32];
                    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
                    line.append(buf, ec == std::errc{} ? static_cast<std::size_t>(end - buf) : 0);
                }
            },
            f.value);
    }
    line += "}\n";
    the_sink().append(line, l >= level::warn);
}

void flush() { the_sink().flush(); }

}  // namespace idgate::core::log
