// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Outgoing mail for invitations and password resets. The SMTP implementation (libcurl) stays in
// src/smtp_mailer.cpp; handlers see only this interface, so tests and deployments without a mail server
// differ by one pointer.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace idgate::accounts {

struct mail_settings {
    std::string smtp_url;  // smtp://host:587 (STARTTLS when require_tls) or smtps://host:465
    std::string from;      // the envelope and From: address
    std::string from_name;
    std::string username, password;  // SMTP AUTH, when the server wants it
    bool require_tls = true;         // refuse to send in clear text (set false only for a local relay)
    std::chrono::seconds timeout{10};
    // Where the links in the messages point: the application's pages, with {token} replaced.
    std::string invitation_url = "{token}";
    std::string password_reset_url = "{token}";
    std::string email_change_url = "{token}";
    bool enabled() const { return !smtp_url.empty(); }
};

struct mail_message {
    std::string to;
    std::string subject;
    std::string text;  // plain text, UTF-8
};

// Delivery failed (connection, TLS, authentication, the server refused a recipient...).
class delivery_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class mailer {
public:
    virtual ~mailer() = default;
    // Blocking: call it from the blocking pool. Throws delivery_error.
    virtual void send(const mail_message& m) const = 0;
    virtual const mail_settings& settings() const = 0;
};

std::unique_ptr<mailer> make_smtp_mailer(mail_settings settings);

}  // namespace idgate::accounts
