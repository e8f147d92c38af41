#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs from Debian 12 what the head-end needs to build and run, and what its tests use.
set -eu
PACKAGES=(
	build-essential cmake pkg-config
	libespeak-ng-dev espeak-ng-data libopus-dev libopusenc-dev libsoxr-dev libconfig-dev
	libcurl4-openssl-dev libasound2-dev libmicrohttpd-dev libjansson-dev libcmocka-dev
	libebur128-dev libsodium-dev libxml2-dev libicu-dev libsystemd-dev
	curl jq bc sox iproute2 util-linux espeak-ng opus-tools systemd tzdata python3
	openssl clang libclang-rt-14-dev
	chromium fonts-wqy-microhei
)
# The browser test runs node (18 or later); a node installed otherwise (with its own npm) is
# kept, since Debian's npm package would conflict with it.
command -v node > /dev/null || PACKAGES+=(nodejs)
command -v npm > /dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
