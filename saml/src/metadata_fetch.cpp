// SPDX-License-Identifier: AGPL-3.0-or-later
// The one HTTP client of the SAML module (libcurl, blocking: called at start-up and from the gateway's
// blocking pool, never on an I/O thread).
#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "saml/connection.hpp"
#include "saml/response.hpp"

namespace idgate::saml {
namespace {

constexpr std::size_t max_metadata_bytes = 1024 * 1024;

struct sink {
    std::string body;
    bool too_large = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& s = *static_cast<sink*>(user);
    if (s.body.size() + size * count > max_metadata_bytes) {
        s.too_large = true;
        return 0;  // aborts the transfer
    }
    s.body.append(data, size * count);
    return size * count;
}

struct easy_deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

}  // namespace

std::string fetch_metadata(const std::string& url, std::chrono::seconds timeout) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    std::unique_ptr<CURL, easy_deleter> curl(curl_easy_init());
    if (!curl) throw saml_error("metadata_unavailable", "cannot start an HTTP client");
    sink s;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    // https (and http for an IdP on loopback, checked with the configuration); redirects stay on https.
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "idgate");
    const CURLcode rc = curl_easy_perform(curl.get());
    if (s.too_large) throw saml_error("metadata_unavailable", url + ": the metadata is larger than 1 MB");
    if (rc != CURLE_OK) throw saml_error("metadata_unavailable", url + ": " + curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) throw saml_error("metadata_unavailable", url + ": HTTP status " + std::to_string(status));
    return s.body;
}

}  // namespace idgate::saml
