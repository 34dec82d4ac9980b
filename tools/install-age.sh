#!/usr/bin/env bash
# Debian's `age` (the reference Go implementation: age, age-keygen), the outside check of the
# interop tests (tests/confidential): documents encrypted by the page's module and by pyrage
# must open with it. `make setup` runs this only when `age` is missing from PATH. Needs root or
# password-less sudo; elsewhere, install age (1.1 or later) yourself.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "install-age: need root or sudo for apt-get; or install age (apt-get install age) yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends age >/dev/null
age --version
