// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A real identity provider from npm (tests/e2e), run by Node on loopback for the end-to-end tests.
// Without Node or the installed packages (`npm ci --prefix tests/e2e`) the suite reports *skipped*
// (exit 77) -- unless IDGATE_REQUIRE_E2E=1, as in the README's test command and CI, where that is a failure.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace idgate::test {

inline std::filesystem::path e2e_directory() { return std::filesystem::path(IDGATE_SOURCE_DIR) / "tests" / "e2e"; }

// Exits 77 (skipped) or fails when the end-to-end identity providers cannot run here.
inline void require_node_packages(const std::string& package) {
    const bool installed = std::filesystem::exists(e2e_directory() / "node_modules" / package / "package.json") &&
                           std::system("node --version > /dev/null 2>&1") == 0;
    if (installed) return;
    const char* require = std::getenv("IDGATE_REQUIRE_E2E");
    if (require && std::string(require) == "1")
        BOOST_FAIL("IDGATE_REQUIRE_E2E=1 but Node or tests/e2e/node_modules/" + package +
                   " is missing: run npm ci --prefix tests/e2e");
    std::cerr << "SKIPPED: the end-to-end identity provider needs Node and `npm ci --prefix tests/e2e`\n";
    std::exit(77);
}

class node_process {
public:
    // Runs `node <script> <args>` from tests/e2e and waits for its "ready <port>" line.
    node_process(const std::string& script, const std::vector<std::string>& args) {
        log_ = std::filesystem::temp_directory_path() /
               ("idgate-node-" + std::to_string(::getpid()) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log");
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        const std::string log = log_.string();
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<std::string> storage{"node", (e2e_directory() / script).string()};
        storage.insert(storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start node");
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = fds[0];
        std::string text;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        static const std::regex ready(R"(ready (\d+))");
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                char buf[256];
                const auto n = ::read(out_, buf, sizeof buf);
                if (n <= 0) break;
                text.append(buf, static_cast<std::size_t>(n));
            }
            std::smatch m;
            if (std::regex_search(text, m, ready)) {
                port_ = static_cast<unsigned short>(std::stoi(m[1]));
                return;
            }
        }
        std::ifstream err(log_);
        throw std::runtime_error("node " + script + " did not start: " + text +
                                 std::string((std::istreambuf_iterator<char>(err)), {}));
    }
    ~node_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) ::close(out_);
        std::error_code ec;
        std::filesystem::remove(log_, ec);
    }
    node_process(const node_process&) = delete;
    node_process& operator=(const node_process&) = delete;

    unsigned short port() const { return port_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    unsigned short port_ = 0;
    std::filesystem::path log_;
};

// A loopback port that was free a moment ago (for a process whose address another must know first).
// Taken below the kernel's ephemeral range (ip_local_port_range), so that no outgoing connection of a test
// running meanwhile can be given it as its source port before the process binds it: with port 0 the
// kernel handed out ephemeral ports, and a busy parallel run once took one in that window.
inline unsigned short free_port() {
    int ephemeral_low = 32768;
    if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> ephemeral_low;
    const int low = std::max(1024, ephemeral_low - 12000), span = std::max(1, ephemeral_low - low);
    static unsigned seed = static_cast<unsigned>(::getpid()) * 2654435761u ^
                           static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int attempt = 0; attempt < 200; ++attempt) {
        seed = seed * 1103515245u + 12345u;
        const auto port = static_cast<unsigned short>(low + static_cast<int>((seed >> 8) % static_cast<unsigned>(span)));
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (free) return port;
    }
    throw std::runtime_error("no free loopback port below the ephemeral range");
}

}  // namespace idgate::test
