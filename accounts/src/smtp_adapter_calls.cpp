// SPDX-License-Identifier: AGPL-3.0-or-later
// make_smtp_mailer, forwarded to idgate_smtp_adapter.so: a deployment without a mail server never maps
// libcurl for it.
#include "core/adapter.hpp"
#include "smtp_adapter.hpp"

namespace idgate::accounts {

std::unique_ptr<mailer> make_smtp_mailer(mail_settings settings) {
    static const auto& adapter = core::adapter::table<detail::smtp_adapter>("smtp");
    return adapter.make_smtp_mailer(std::move(settings));
}

}  // namespace idgate::accounts
