#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what the browser test drives chromium with: playwright-core, the exact version of
# package-lock.json, into tests/browser/node_modules (ignored by git). playwright-core never
# downloads a browser; the test uses Debian's /usr/bin/chromium. Needs the npm registry, so it
# runs before the tests, outside their network namespace.
set -eu
cd "$(dirname "$0")"
if [ -f node_modules/playwright-core/package.json ] &&
	[ "$(node -p 'require("./node_modules/playwright-core/package.json").version' 2> /dev/null)" = \
	  "$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')" ]; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
