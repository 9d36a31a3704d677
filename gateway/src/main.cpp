// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/cli.hpp"

int main(int argc, char** argv) { return idgate::gateway::run_cli(argc, argv); }
