// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The `idgate` command line: serve, check-config, migrate, version.
namespace idgate::gateway {
int run_cli(int argc, char** argv);
}
