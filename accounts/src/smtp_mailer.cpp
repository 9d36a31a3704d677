// SPDX-License-Identifier: AGPL-3.0-or-later
// SMTP delivery through libcurl (RFC 5321 envelope, RFC 5322 message). libcurl stays in this file.
#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <mutex>

#include "accounts/mail.hpp"
#include "core/adapter.hpp"
#include "core/crypto.hpp"
#include "smtp_adapter.hpp"

namespace idgate::accounts {
namespace {

// Header values come from our own templates and validated addresses, but a CR or LF must never reach
// the message head (header injection), whatever a future caller passes.
std::string header_safe(std::string_view value) {
    std::string out;
    for (char ch : value) out += (ch == '\r' || ch == '\n') ? ' ' : ch;
    return out;
}

// RFC 2047 encoded-word when the text is not plain ASCII.
std::string encode_header_text(std::string_view value) {
    bool ascii = true;
    for (unsigned char ch : value) ascii = ascii && ch < 0x80;
    if (ascii) return header_safe(value);
    std::string b64 = core::base64url_encode(value);
    for (auto& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    while (b64.size() % 4) b64 += '=';
    return "=?UTF-8?B?" + b64 + "?=";
}

std::string rfc5322_date() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buffer;
}

struct upload {
    std::string data;
    std::size_t offset = 0;
};

std::size_t read_chunk(char* out, std::size_t size, std::size_t count, void* user) {
    auto* u = static_cast<upload*>(user);
    const std::size_t n = std::min(size * count, u->data.size() - u->offset);
    std::memcpy(out, u->data.data() + u->offset, n);
    u->offset += n;
    return n;
}

class smtp_mailer final : public mailer {
public:
    explicit smtp_mailer(mail_settings s) : settings_(std::move(s)) {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    }

    const mail_settings& settings() const override { return settings_; }

    void send(const mail_message& m) const override {
        const std::string domain = settings_.from.substr(settings_.from.find('@') + 1);
        upload body;
        std::string from = settings_.from_name.empty()
                               ? header_safe(settings_.from)
                               : encode_header_text(settings_.from_name) + " <" + header_safe(settings_.from) + ">";
        body.data = "Date: " + rfc5322_date() + "\r\n" + "From: " + from + "\r\n" + "To: <" + header_safe(m.to) +
                    ">\r\n" + "Subject: " + encode_header_text(m.subject) + "\r\n" + "Message-ID: <" +
                    core::new_uuid() + "@" + header_safe(domain) + ">\r\n" +
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n";
        // SMTP lines end in CRLF (RFC 5321 §2.3.8); libcurl escapes a lone "." line itself.
        for (std::size_t i = 0; i < m.text.size(); ++i) {
            if (m.text[i] == '\n' && (i == 0 || m.text[i - 1] != '\r')) body.data += '\r';
            body.data += m.text[i];
        }
        body.data += "\r\n";

        CURL* curl = curl_easy_init();
        if (!curl) throw delivery_error("could not initialise libcurl");
        const std::string mail_from = "<" + header_safe(settings_.from) + ">";
        const std::string rcpt = "<" + header_safe(m.to) + ">";
        curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
        char error[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(curl, CURLOPT_URL, settings_.smtp_url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");  // never anything else
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_chunk);
        curl_easy_setopt(curl, CURLOPT_READDATA, &body);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings_.timeout.count()));
        if (settings_.require_tls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        if (!settings_.username.empty()) {
            curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
            curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
        }
        const CURLcode rc = curl_easy_perform(curl);
        curl_slist_free_all(recipients);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK)
            throw delivery_error(std::string("SMTP delivery failed: ") + (error[0] ? error : curl_easy_strerror(rc)));
    }

private:
    mail_settings settings_;
};

}  // namespace

std::unique_ptr<mailer> make_smtp_mailer(mail_settings settings) {
    return std::make_unique<smtp_mailer>(std::move(settings));
}

namespace detail {
namespace {

constexpr smtp_adapter table{&make_smtp_mailer};

}  // namespace
}  // namespace detail
}  // namespace idgate::accounts

IDGATE_ADAPTER_ENTRY(idgate::accounts::detail::table)
