#!/usr/bin/env bash
# `make serve`: the service on 127.0.0.1:8000 against a local chain, with the embedded store.
# Starts anvil on 127.0.0.1:8545 unless one is already listening there, deploys the escrows
# of tUSD and tEUR (recorded in deployments/<chain id>.json) when the chain lacks one, and
# serves both; runs uvicorn, and stops
# the anvil it started on exit. ESCROW_* variables configure the service (backend/settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${ESCROW_RPC_PORT:-8545}
anvil_pid=""
cleanup() { [ -n "$anvil_pid" ] && kill "$anvil_pid" 2>/dev/null || true; }
trap cleanup EXIT
if ! (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  anvil --host 127.0.0.1 --port "$port" --block-base-fee-per-gas 0 --silent \
    --state var/anvil-state.json --state-interval 10 &
  anvil_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.2; done
fi
mkdir -p var
chain_id=$(python - <<PY
from web3 import Web3
print(Web3(Web3.HTTPProvider("http://127.0.0.1:$port")).eth.chain_id)
PY
)
escrow=$(python - <<PY
from web3 import Web3
from backend import deployments
w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:$port"))
known = deployments.load($chain_id)
both = [known.get(symbol) for symbol in ("tUSD", "tEUR")]
print("deployed" if all(d and w3.eth.get_code(d.escrow) for d in both) else "")
PY
)
if [ -z "$escrow" ]; then
  brownie run scripts/deploy.py --silent
fi
export ESCROW_RPC_URL="http://127.0.0.1:$port"
if [ -z "${ESCROW_RELAYER_PRIVATE_KEY:-}" ] && [ "$chain_id" = 31337 ]; then
  # The local chain only: relay handed-in attestations from anvil's tenth development account
  # (well known, funded by anvil). Anywhere else, set a key of your own.
  ESCROW_RELAYER_PRIVATE_KEY=$(python - <<'PY'
from eth_account import Account
Account.enable_unaudited_hdwallet_features()
mnemonic = "test test test test test test test test test test test junk"  # anvil's default
print(Account.from_mnemonic(mnemonic, account_path="m/44'/60'/0'/0/9").key.hex())
PY
)
  export ESCROW_RELAYER_PRIVATE_KEY
  echo "relayer: anvil development account 9 (local chain only)"
fi
export ESCROW_RUN_INDEXER=${ESCROW_RUN_INDEXER:-1}
exec_uvicorn() { uvicorn --factory backend.main:create_app --host 127.0.0.1 --port "${ESCROW_PORT:-8000}"; }
echo "service: http://127.0.0.1:${ESCROW_PORT:-8000}/docs (OpenAPI); web page: http://127.0.0.1:${ESCROW_PORT:-8000}/app/"
exec_uvicorn
