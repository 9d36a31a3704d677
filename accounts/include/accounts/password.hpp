// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Passwords: the organisation's policy, and Argon2id hashing (RFC 9106). libargon2 stays in password.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "schema/account.hpp"

namespace idgate::accounts {

// Every rule of `policy` that `password` breaks, in words for the user ("at least one digit"); empty
// when it complies. All failures are listed at once, so the user fixes them in one go.
std::vector<std::string> password_problems(const schema::password_policy& policy, std::string_view password);

// An Argon2id hash in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash), with a fresh
// random salt. Parameters follow RFC 9106 §4's second recommendation scaled to a server answering logins
// interactively (19 MiB, 2 passes, 1 lane: OWASP's minimum for Argon2id).
std::string hash_password(std::string_view password);

// Whether `password` matches `encoded` (constant time in libargon2). False for a malformed hash.
bool verify_password(std::string_view encoded, std::string_view password);

// A random password that meets `policy` (at least 16 characters when the policy allows), for an admin
// reset that hands the user a password instead of a link.
std::string generate_password(const schema::password_policy& policy);

// A hash of a random password, verified against on unknown logins so that "no such user" takes as long
// as "wrong password" (no user enumeration by timing).
const std::string& decoy_password_hash();

}  // namespace idgate::accounts
