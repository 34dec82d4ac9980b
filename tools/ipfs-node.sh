#!/usr/bin/env bash
# A local, offline js-ipfs node (npm `ipfs`, see package.json) for tests and development.
#
#   tools/ipfs-node.sh start <repo-dir> <api-port> <gateway-port>
#   tools/ipfs-node.sh stop <repo-dir>
#
# start: points the HTTP RPC API and the gateway at 127.0.0.1:<port>, turns off routing,
# bootstrap peers, delegates, MDNS, NAT port mapping, the gRPC endpoint (default port 5003, which
# would clash between two nodes) and preloading, and starts `jsipfs daemon --offline` in the
# background (pid file daemon.pid and log daemon.log in <repo-dir>), initialising a repo with the
# `test` profile when <repo-dir> holds none. Returns once POST /api/v0/id answers; fails after
# IPFS_NODE_START_TIMEOUT seconds (default 60) with the end of the log.
# stop: SIGTERM, then waits for the daemon to exit (SIGKILL after 15 s); no-op when not running.
# A repo whose daemon was killed starts again: its stale lock is removed first.
#
# Nothing here contacts another host: NODE_ENV=test and NO_UPDATE_NOTIFIER keep jsipfs from
# checking for updates, and the settings below leave it no peer or router to dial.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JSIPFS="${JSIPFS:-$here/../node_modules/.bin/jsipfs}"
[[ -x "$JSIPFS" ]] || JSIPFS="$(command -v jsipfs || true)"

export NODE_ENV=test NO_UPDATE_NOTIFIER=1
unset DEBUG # js-ipfs logs through the `debug` module: a DEBUG set for something else floods the log

die() {
    echo "ipfs-node: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start <repo-dir> <api-port> <gateway-port> | stop <repo-dir>"
}

is_port() {
    [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

alive() { # a process that exited but was not reaped yet (a zombie) counts as gone
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ -n "$stat" && "${stat%% *}" != Z ]]
}

running_pid() { # prints the daemon's pid when the pid file names a live js-ipfs process
    local pid
    pid="$(cat "$1/daemon.pid" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    # js-ipfs sets its process title to "ipfs"; this guards against a recycled pid.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q ipfs || return 1
    echo "$pid"
}

start() {
    local repo="$1" api_port="$2" gateway_port="$3" pid
    is_port "$api_port" || die "bad API port: $api_port"
    is_port "$gateway_port" || die "bad gateway port: $gateway_port"
    [[ -n "$JSIPFS" ]] || die "jsipfs not found (run: make setup, or npm ci)"
    mkdir -p "$repo"
    repo="$(cd "$repo" && pwd)"
    export IPFS_PATH="$repo"
    local log="$repo/daemon.log" pidfile="$repo/daemon.pid"
    local settings="$repo/ipfs-node-settings.json"

    if pid="$(running_pid "$repo")"; then
        die "a daemon already runs on $repo (pid $pid); stop it first"
    fi
    # A daemon that was killed (SIGKILL, a crash) leaves its repo lock and API file behind, and
    # js-ipfs refuses to start while they are there ("Lock already being held"). No daemon runs
    # on this repo (checked above): they are stale.
    rm -rf "$repo/repo.lock" "$repo/api"
    # js-ipfs does not exit when it cannot listen (it logs EADDRINUSE and idles): check first.
    local port
    for port in "$api_port" "$gateway_port"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port on 127.0.0.1 is already in use"
        fi
    done

    # Merged into the repo's config at every start (the repo may come from an earlier run on
    # other ports). A missing repo is initialised by the daemon itself (--init-profile test, then
    # these settings on top): the same as `jsipfs init --profile test` first, but one Node.js
    # start instead of two (init alone costs about 5 s). Init also adds and pins a few help files.
    cat >"$settings" <<JSON
{
  "Addresses": {
    "API": "/ip4/127.0.0.1/tcp/$api_port",
    "Gateway": "/ip4/127.0.0.1/tcp/$gateway_port",
    "RPC": "",
    "Swarm": ["/ip4/127.0.0.1/tcp/0"],
    "Announce": [],
    "Delegates": []
  },
  "Bootstrap": [],
  "Routing": {"Type": "none"},
  "Discovery": {"MDNS": {"Enabled": false}, "webRTCStar": {"Enabled": false}},
  "Swarm": {"DisableNatPortMap": true}
}
JSON

    : >"$log"
    # The daemon outlives this script: stdin closed, output in the log.
    nohup "$JSIPFS" daemon --offline --enable-preload=false \
        --init-profile test --init-config "$settings" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"

    local url="http://127.0.0.1:$api_port/api/v0/id"
    local timeout="${IPFS_NODE_START_TIMEOUT:-60}"
    if ! node - "$url" "$pid" "$timeout" "$repo/config" "$log" <<'JS'; then
const fs = require('fs')
const [url, pid, timeout, config, log] = process.argv.slice(2)
const deadline = Date.now() + Number(timeout) * 1000
const alive = () => { // a zombie (exited, not yet reaped) counts as gone
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()[0] !== 'Z'
  } catch { return false }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
;(async () => {
  while (Date.now() < deadline) {
    if (!alive()) { console.error(`ipfs-node: the daemon (pid ${pid}) exited`); process.exit(1) }
    // A daemon that failed to start logs the error and idles instead of exiting.
    const failure = fs.readFileSync(log, 'utf8').match(/.*\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b.*/)
    if (failure) { console.error(`ipfs-node: the daemon failed: ${failure[0]}`); process.exit(1) }
    try {
      const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(2000) })
      const id = res.ok ? (await res.json()).ID : undefined
      // Only our node counts, not another one already listening on that port.
      if (id && id === JSON.parse(fs.readFileSync(config, 'utf8')).Identity.PeerID) {
        process.exit(0)
      }
    } catch {}
    await sleep(100)
  }
  console.error(`ipfs-node: no answer from ${url} within ${timeout} s`)
  process.exit(1)
})()
JS
        local tail_
        tail_="$(tail -n 30 "$log")"
        stop "$repo" >/dev/null 2>&1 || true
        die "the node on $repo did not start; end of $log:
$tail_"
    fi
    echo "ipfs-node: pid $pid, API http://127.0.0.1:$api_port, gateway http://127.0.0.1:$gateway_port"
}

stop() {
    local repo="$1" pid
    [[ -d "$repo" ]] || die "no such repo dir: $repo"
    if ! pid="$(running_pid "$repo")"; then
        rm -f "$repo/daemon.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do # 15 s
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "ipfs-node: pid $pid ignored SIGTERM for 15 s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$repo/daemon.pid"
}

case "${1:-}" in
start) (($# == 4)) || usage; start "$2" "$3" "$4" ;;
stop) (($# == 2)) || usage; stop "$2" ;;
*) usage ;;
esac
