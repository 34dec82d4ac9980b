#!/bin/bash
# Makes the venv hold exactly requirements.lock plus this project (editable), nothing else.
# Usage: tools/sync-venv.sh VENV   (make setup runs it when the lock or pyproject.toml changes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:?usage: sync-venv.sh VENV}
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
# -qq: errors only (this machine's pip config adds index locations that warn on every package).
quiet=(-qq)
cd "$root"

# --no-deps: exactly the locked versions, resolved once by tools/lock-python.sh.
"${pip[@]}" install "${quiet[@]}" --no-deps -r requirements.lock

# Packages that left the lock since this venv was made.
extra=$(LC_ALL=C comm -23 \
  <("${pip[@]}" freeze --all --exclude-editable | grep -v -i -E '^(pip|setuptools)==' | LC_ALL=C sort) \
  <(grep -v '^#' requirements.lock | LC_ALL=C sort) | cut -d= -f1)
if [ -n "$extra" ]; then
  # shellcheck disable=SC2086
  "${pip[@]}" uninstall "${quiet[@]}" -y $extra
fi

"${pip[@]}" install "${quiet[@]}" --no-deps -e .

# slither's dependency solc-select installs a `solc` shim: on PATH, py-solc-x would take it
# as the default compiler, and it tries to download compilers. The compiler here is the
# adapter in tools/solc, which py-solc-x finds in $SOLCX_BINARY_PATH.
rm -f "$venv/bin/solc"

"${pip[@]}" check
