#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The whole test suite, as CI runs it: install what is missing, build with warnings as errors
# and with AddressSanitizer + UBSan, then run ctest inside a network namespace of its own in
# which only loopback exists, so no test can reach another host even by mistake.
set -eu
cd "$(dirname "$0")/.."
bash tools/deps.sh
# playwright-core from npm for the browser test; without it that test reports skipped.
bash tests/browser/install.sh || echo "check: no playwright-core; browser.console is skipped"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
cmake -S . -B build-check -DCX_WERROR=ON -DCX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build build-check -j2
$SUDO unshare -n -- sh -c "ip link set lo up && cd build-check && ctest --output-on-failure -j2 $*"
