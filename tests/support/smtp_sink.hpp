// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A real SMTP server on loopback for tests (RFC 5321's minimal command set: EHLO/HELO, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT). It keeps every message it accepts, so a test can read the link idgate mailed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace idgate::test {

struct received_mail {
    std::string from;
    std::vector<std::string> recipients;
    std::string data;  // headers and body, as sent (CRLF line ends, dot-stuffing removed)
};

class smtp_sink {
public:
    smtp_sink() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 8) != 0)
            throw std::runtime_error("smtp_sink: cannot listen on loopback");
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~smtp_sink() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }

    unsigned short port() const { return port_; }
    std::vector<received_mail> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    // Waits (up to 10 s) until at least `n` messages arrived.
    std::vector<received_mail> wait_for(std::size_t n) const {
        for (int i = 0; i < 1000; ++i) {
            if (auto m = messages(); m.size() >= n) return m;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return messages();
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            converse(fd);
            ::close(fd);
        }
    }

    static void say(int fd, const std::string& line) {
        const std::string out = line + "\r\n";
        (void)!::write(fd, out.data(), out.size());
    }

    // One line (without CRLF) from the connection; false on EOF or after 10 s of silence.
    bool read_line(int fd, std::string& buffer, std::string& line) {
        for (int waited = 0;;) {
            if (const auto end = buffer.find("\r\n"); end != std::string::npos) {
                line = buffer.substr(0, end);
                buffer.erase(0, end + 2);
                return true;
            }
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) {
                if (stop_ || (waited += 100) > 10000) return false;
                continue;
            }
            char chunk[4096];
            const auto n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
    }

    void converse(int fd) {
        std::string buffer, line;
        received_mail current;
        say(fd, "220 sink.test ESMTP test sink");
        while (read_line(fd, buffer, line)) {
            std::string verb = line.substr(0, 4);
            for (auto& ch : verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (verb == "EHLO") {
                say(fd, "250-sink.test");
                say(fd, "250 8BITMIME");
            } else if (verb == "HELO") {
                say(fd, "250 sink.test");
            } else if (verb == "MAIL") {
                current = {};
                current.from = line.substr(line.find(':') + 1);
                say(fd, "250 OK");
            } else if (verb == "RCPT") {
                current.recipients.push_back(line.substr(line.find(':') + 1));
                say(fd, "250 OK");
            } else if (verb == "DATA") {
                say(fd, "354 end with <CRLF>.<CRLF>");
                std::string data;
                while (read_line(fd, buffer, line) && line != ".")
                    data += (line.rfind("..", 0) == 0 ? line.substr(1) : line) + "\r\n";  // RFC 5321 §4.5.2
                current.data = data;
                {
                    std::lock_guard lock(mutex_);
                    messages_.push_back(current);
                }
                say(fd, "250 OK queued");
            } else if (verb == "QUIT") {
                say(fd, "221 bye");
                return;
            } else if (verb == "RSET" || verb == "NOOP") {
                say(fd, "250 OK");
            } else {
                say(fd, "502 command not implemented");
            }
        }
    }

    int listener_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<received_mail> messages_;
};

}  // namespace idgate::test
