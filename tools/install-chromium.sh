#!/usr/bin/env bash
# Debian's chromium, which the web page tests (tests/web) drive headless through playwright.
# `make setup` runs this only when $CHROMIUM (default /usr/bin/chromium) is missing. Needs root
# or password-less sudo; elsewhere, install a Chromium yourself and set CHROMIUM to its path.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "install-chromium: need root or sudo for apt-get; or install Chromium and set CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
