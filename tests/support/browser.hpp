// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What a browser does in a redirect-based sign-in, for tests on loopback: follows redirects (relative
// ones too), keeps cookies per host and port (as browsers do for localhost, Secure ones included over
// http), and remembers where it went.
#include <cctype>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "http_client.hpp"

namespace idgate::test {

class browser {
public:
    struct page {
        int status = 0;
        std::string url;   // where the browser ended up
        std::string body;
        reply last;
        std::vector<std::string> visited;  // every URL requested, in order
    };

    // GET `url` and follow redirects (at most 20) -- but not to a URL starting with `stop_before`, which is
    // returned as the page's url instead (to tamper with a redirect, as an attacker in the middle would).
    page open(std::string url, const std::vector<std::pair<std::string, std::string>>& headers = {},
              const std::string& stop_before = {}) {
        page p;
        for (int hops = 0; hops < 20; ++hops) {
            if (!stop_before.empty() && hops > 0 && url.rfind(stop_before, 0) == 0) {
                p.url = url;
                return p;
            }
            p.visited.push_back(url);
            p.last = send(http::verb::get, url, "", headers);
            p.status = p.last.status;
            p.url = url;
            p.body = p.last.body;
            const auto location = p.last.header("Location");
            if (p.status < 300 || p.status >= 400 || location.empty()) return p;
            url = resolve(url, location);
        }
        throw std::runtime_error("too many redirects");
    }

    // Submits the page's first form as a browser would (an auto-posting SAML form, for instance): its
    // action, its inputs' names and values, as application/x-www-form-urlencoded; then follows redirects.
    page submit_form(const page& from) {
        static const std::regex form_tag(R"re(<form[^>]*action="([^"]*)")re", std::regex::icase);
        static const std::regex input(R"re(<input[^>]*name="([^"]*)"[^>]*value="([^"]*)")re", std::regex::icase);
        std::smatch m;
        if (!std::regex_search(from.body, m, form_tag)) throw std::runtime_error("no form on " + from.url);
        const auto action = resolve(from.url, unescape(m[1]));
        std::string body;
        for (auto it = std::sregex_iterator(from.body.begin(), from.body.end(), input); it != std::sregex_iterator(); ++it)
            body += (body.empty() ? "" : "&") + percent((*it)[1]) + "=" + percent(unescape((*it)[2]));
        auto r = send(http::verb::post, action, body, {{"Content-Type", "application/x-www-form-urlencoded"}});
        page p;
        p.visited = {action};
        p.url = action;
        p.status = r.status;
        p.body = r.body;
        p.last = r;
        const auto location = r.header("Location");
        if (p.status >= 300 && p.status < 400 && !location.empty()) {
            auto next = open(resolve(action, location));
            next.visited.insert(next.visited.begin(), action);
            return next;
        }
        return p;
    }

    // One request with this browser's cookies (no redirect following).
    reply send(http::verb verb, const std::string& url, const std::string& body = "",
               std::vector<std::pair<std::string, std::string>> headers = {}) {
        const auto [origin, target] = split(url);
        std::string cookie;
        for (const auto& [name, value] : jar_[origin]) cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
        if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
        headers.emplace_back("Host", origin);  // with the port, as browsers send it
        const auto colon = origin.rfind(':');
        if (colon == std::string::npos) throw std::runtime_error("the test browser only visits host:port URLs: " + url);
        const auto port = static_cast<unsigned short>(std::stoi(origin.substr(colon + 1)));
        reply r;
        try {
            http_client c(port);
            r = c.request(verb, target, body, headers);
        } catch (const std::exception& e) {
            throw std::runtime_error(url + ": " + e.what());
        }
        for (const auto& field : r.headers)
            if (field.name() == http::field::set_cookie) remember(origin, std::string(field.value()));
        return r;
    }

    std::string cookie(const std::string& origin, const std::string& name) const {
        const auto jar = jar_.find(origin);
        if (jar == jar_.end()) return {};
        const auto c = jar->second.find(name);
        return c == jar->second.end() ? std::string() : c->second;
    }

    // "http://127.0.0.1:8080/a?b" -> {"127.0.0.1:8080", "/a?b"}
    static std::pair<std::string, std::string> split(const std::string& url) {
        const auto start = url.find("://");
        if (start == std::string::npos) throw std::runtime_error("not an absolute URL: " + url);
        const auto path = url.find('/', start + 3);
        return {url.substr(start + 3, path - start - 3), path == std::string::npos ? "/" : url.substr(path)};
    }

    static std::string resolve(const std::string& base, const std::string& location) {
        if (location.find("://") != std::string::npos) return location;
        return "http://" + split(base).first + location;
    }

private:
    static std::string unescape(std::string s) {
        for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
                 {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#39;", "'"}, {"&amp;", "&"}}) {
            for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
        }
        return s;
    }
    static std::string percent(const std::string& s) {
        static const char* hex = "0123456789ABCDEF";
        std::string out;
        for (const unsigned char c : s) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
            else out += std::string("%") + hex[c >> 4] + hex[c & 15];
        }
        return out;
    }

    void remember(const std::string& origin, const std::string& set_cookie) {
        const auto semi = set_cookie.find(';');
        const auto pair = set_cookie.substr(0, semi);
        const auto eq = pair.find('=');
        if (eq == std::string::npos) return;
        const auto name = pair.substr(0, eq), value = pair.substr(eq + 1);
        const auto attributes = semi == std::string::npos ? std::string() : set_cookie.substr(semi);
        const bool expired = attributes.find("Max-Age=0") != std::string::npos ||
                             attributes.find("expires=Thu, 01 Jan 1970") != std::string::npos;
        if (expired || value.empty()) jar_[origin].erase(name);
        else jar_[origin][name] = value;
    }

    std::map<std::string, std::map<std::string, std::string>> jar_;
};

}  // namespace idgate::test
