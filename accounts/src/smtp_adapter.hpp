// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The SMTP adapter's table (core/adapter.hpp). The adapter, idgate_smtp_adapter.so, is src/smtp_mailer.cpp
// (libcurl); src/smtp_adapter_calls.cpp opens it when the configuration has a mail server.
#include "accounts/mail.hpp"

namespace idgate::accounts::detail {

struct smtp_adapter {
    decltype(&accounts::make_smtp_mailer) make_smtp_mailer;
};

}  // namespace idgate::accounts::detail
