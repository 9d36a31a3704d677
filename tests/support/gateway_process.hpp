// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Starts the real `idgate` binary with a generated config on a free loopback port, reads the port and
// the bootstrap token from its stdout, and stops it with a signal.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace idgate::test {

// Where the integration tests keep their state, and which database backs the gateway.
struct backend_choice {
    std::string storage_yaml;  // the `storage:` section
};
// Defined by main_sqlite.cpp / main_postgres.cpp; `dir` is the gateway's own temporary directory.
backend_choice integration_backend(const std::filesystem::path& dir);

inline std::filesystem::path make_temp_dir(const std::string& tag) {
    auto dir = std::filesystem::temp_directory_path() /
               ("idgate-it-" + tag + "-" + std::to_string(::getpid()) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    return dir;
}

// Runs the idgate binary with `args` to completion: its exit status and everything it printed.
struct command_result {
    int status;
    std::string output;
};
inline command_result run_idgate_with_environment(const std::string& environment, const std::string& args) {
    const std::string command = environment + " " + std::string(IDGATE_BINARY) + " " + args + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buf[512];
    while (const auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
inline command_result run_idgate(const std::string& args) { return run_idgate_with_environment("", args); }

// Whether a file whose path contains `name` (a shared library, an adapter) is mapped into process `pid`.
inline bool maps_file(pid_t pid, const std::string& name) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    for (std::string line; std::getline(maps, line);)
        if (line.find('/') != std::string::npos && line.substr(line.find('/')).find(name) != std::string::npos) return true;
    return false;
}

class gateway_process {
public:
    // `server_yaml` is inserted under `server:` (indented two spaces by the caller); `more_yaml` holds
    // further top-level sections.
    // `port` 0: any free port (read back with port()).
    explicit gateway_process(const std::string& server_yaml = "", const std::string& tag = "gw",
                             const std::string& more_yaml = "", unsigned short port = 0)
        : dir_(make_temp_dir(tag)) {
        const auto backend = integration_backend(dir_);
        config_path_ = (dir_ / "idgate.yaml").string();
        std::ofstream(config_path_) << "server:\n  address: 127.0.0.1\n  port: " << port << "\n"
                                    << server_yaml << backend.storage_yaml << more_yaml << "log:\n  level: info\n";
        start({"serve", "--config", config_path_});
    }

    ~gateway_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_fd_ >= 0) ::close(out_fd_);
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Starts the binary again on the same configuration and database (after it has exited).
    void restart() {
        if (out_fd_ >= 0) ::close(out_fd_);
        out_fd_ = -1;
        port_ = 0;
        token_.clear();
        start({"serve", "--config", config_path_});
    }

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& admin_token() const { return token_; }
    const std::filesystem::path& dir() const { return dir_; }
    const std::string& config_path() const { return config_path_; }
    std::string log_path() const { return (dir_ / "stderr.log").string(); }

    void signal(int sig) { ::kill(pid_, sig); }

    // Waits for the process to exit; returns its exit status (or -1 on timeout, -2 if killed by signal).
    int wait_exit(std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

private:
    void start(const std::vector<std::string>& args) {
        int pipe_fds[2];
        if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        const std::string log = log_path();
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<std::string> argv_storage{IDGATE_BINARY};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, IDGATE_BINARY, &actions, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start " IDGATE_BINARY);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_fds[1]);
        out_fd_ = pipe_fds[0];
        read_startup();
    }

    // Reads stdout until the "listening" line (the token line comes first on a new database).
    void read_startup() {
        std::string text;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        static const std::regex listening(R"(idgate listening on https?://[0-9.]+:(\d+))");
        static const std::regex token(R"(Bootstrap admin token \(shown once; store it now\): (\S+))");
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{out_fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                char buf[512];
                const auto n = ::read(out_fd_, buf, sizeof buf);
                if (n <= 0) break;
                text.append(buf, static_cast<std::size_t>(n));
            }
            std::smatch m;
            if (std::regex_search(text, m, token)) token_ = m[1];
            if (std::regex_search(text, m, listening)) {
                port_ = static_cast<unsigned short>(std::stoi(m[1]));
                return;
            }
        }
        std::ifstream err(log_path());
        std::string err_text((std::istreambuf_iterator<char>(err)), {});
        throw std::runtime_error("idgate did not start; stdout: " + text + "\nstderr: " + err_text);
    }

    std::filesystem::path dir_;
    std::string config_path_;
    pid_t pid_ = -1;
    int out_fd_ = -1;
    unsigned short port_ = 0;
    std::string token_;
};

}  // namespace idgate::test
