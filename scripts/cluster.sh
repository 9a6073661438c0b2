#!/usr/bin/env bash
# A whole cryptounet cluster on this machine, on loopback: a 3-node NATS JetStream cluster run from deploy/nats
# (without TLS), a front end (`cryptounet serve --nats`) and K workers. All state, logs, credentials and process
# ids live in one directory; nothing listens on a fixed port (route ports are found free at start, the others are
# chosen by the OS and read back).
#
#   scripts/cluster.sh start DIR --model M.onnx [--workers K] [--threads T] [--replicas R] [--cryptounet BIN]
#   scripts/cluster.sh stop DIR                 # every process of the cluster, then the directory stays for reading
#   scripts/cluster.sh stop-node DIR n2         # one NATS node (n1, n2 or n3), as a failure drill
#
# `start` prints the front end's URL and the client token file; DIR/cluster.env holds the same as shell variables
# (CRYPTOUNET_URL, CRYPTOUNET_TOKEN_FILE, NATS_URLS). Needs nats-server and Debian's python3-bcrypt.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
nodes=(n1 n2 n3)
startup_deadline_s=${CLUSTER_STARTUP_DEADLINE_S:-120}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# Waits until `check` succeeds, polling; fails when the process of PIDFILE has exited or after the startup
# deadline, naming `what` and showing the end of its log.
wait_for() {
  local what=$1 pidfile=$2 log=$3; shift 3
  local deadline=$((SECONDS + startup_deadline_s))
  until "$@"; do
    local why=""
    alive "$pidfile" || why="exited"
    ((SECONDS < deadline)) || why="did not come up within ${startup_deadline_s} s"
    if [[ -n $why ]]; then
      tail -n 20 "$log" >&2 || true
      die "$what $why; see $log"
    fi
    sleep 0.2
  done
}

# Starts a detached process in its own session; its pid goes to PIDFILE.
spawn() {
  local pidfile=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# SIGTERM, then SIGKILL after 30 s; a worker hands its task back on SIGTERM.
stop_process() {
  local pidfile=$1
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

# The port a node's ports file gives for `kind` (nats, monitoring or cluster).
node_port() {
  local dir=$1 kind=$2
  "$python" - "$dir" "$kind" <<'PY'
import glob, json, sys
files = glob.glob(f"{sys.argv[1]}/*.ports")
if not files:
    sys.exit(1)
urls = json.load(open(files[0])).get(sys.argv[2]) or []
if not urls:
    sys.exit(1)
print(urls[0].rsplit(":", 1)[1])
PY
}

node_healthy() {
  local port; port=$(node_port "$1" monitoring) || return 1
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null
}

log_has() { grep -q "$2" "$1" 2>/dev/null; }

start() {
  local dir=$1; shift
  local model="" workers=2 threads=1 replicas=3 cli="$here/build/cryptounet"
  while (($#)); do
    case $1 in
      --model) model=$2; shift 2 ;;
      --workers) workers=$2; shift 2 ;;
      --threads) threads=$2; shift 2 ;;
      --replicas) replicas=$2; shift 2 ;;
      --cryptounet) cli=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ -n $model && -r $model ]] || die "--model M.onnx is required"
  [[ -x $cli ]] || die "no cryptounet binary at $cli (--cryptounet BIN)"
  command -v nats-server >/dev/null || die "nats-server is not installed (scripts/setup.sh)"
  [[ -e $dir/cluster.env ]] && die "$dir already holds a cluster (stop it, or choose another directory)"
  model=$(realpath "$model")
  mkdir -p "$dir" && dir=$(realpath "$dir")
  umask 077
  mkdir -p "$dir/nats" "$dir/credentials" "$dir/frontend" "$dir/workers"
  # A start that fails half-way leaves nothing running.
  trap 'echo "cluster.sh: start failed, stopping what was started (logs stay in $dir)" >&2; stop "$dir"' EXIT

  # NATS configuration: deploy/nats as shipped, TLS left out (loopback only).
  cp "$here/deploy/nats/cluster.conf" "$here/deploy/nats/accounts.conf" "$dir/nats/"
  echo "# loopback: no TLS (scripts/cluster.sh)" >"$dir/nats/client-tls.conf"
  cp "$dir/nats/client-tls.conf" "$dir/nats/route-tls.conf"

  # Credentials: random passwords; NATS gets their bcrypt hashes, the services the clear ones in 0600 files.
  "$python" - "$dir" <<'PY'
import bcrypt, os, secrets, sys
d = sys.argv[1]
hashes = {}
for user in ("frontend", "worker", "admin"):
    password = secrets.token_hex(32)
    with open(f"{d}/credentials/{user}.nats", "w") as f:
        f.write(f"{user}:{password}\n")
    hashes[user] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode()
token = secrets.token_hex(32)
with open(f"{d}/credentials/tokens", "w") as f:
    f.write(f"operator {token}\n")
with open(f"{d}/credentials/client.token", "w") as f:
    f.write(token + "\n")
# Free ports for the routes: every node must know them all before any starts.
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
routes = [f"nats-route://127.0.0.1:{s.getsockname()[1]}" for s in sockets]
with open(f"{d}/nats/nats.env", "w") as f:
    f.write(f"NATS_CLIENT_LISTEN=127.0.0.1:-1\nNATS_MONITOR_LISTEN=127.0.0.1:-1\n")
    for i, r in enumerate(routes, 1):
        f.write(f"NATS_ROUTE_{i}={r}\n")
with open(f"{d}/nats/passwords.conf", "w") as f:
    for user, h in hashes.items():
        f.write(f'{user.upper()}_PASSWORD_BCRYPT: "{h}"\n')
for s in sockets:
    s.close()
PY

  local i=0
  for node in "${nodes[@]}"; do
    i=$((i + 1))
    mkdir -p "$dir/nats/$node/store"
    local route_port; route_port=$(sed -n "s/^NATS_ROUTE_$i=.*:\([0-9]*\)$/\1/p" "$dir/nats/nats.env")
    (
      set -a
      # shellcheck source=/dev/null
      . "$dir/nats/nats.env"
      set +a
      export NATS_SERVER_NAME=$node NATS_CLUSTER_LISTEN=127.0.0.1:$route_port NATS_STORE_DIR=$dir/nats/$node/store
      spawn "$dir/nats/$node/pid" "$dir/nats/$node/log" \
        nats-server -c "$dir/nats/cluster.conf" --ports_file_dir "$dir/nats/$node"
    )
  done
  for node in "${nodes[@]}"; do
    wait_for "NATS node $node" "$dir/nats/$node/pid" "$dir/nats/$node/log" node_healthy "$dir/nats/$node"
  done
  local urls="" node
  for node in "${nodes[@]}"; do urls+="${urls:+,}nats://127.0.0.1:$(node_port "$dir/nats/$node" nats)"; done

  spawn "$dir/frontend/pid" "$dir/frontend/log" \
    "$cli" serve --model "$model" --host 127.0.0.1 --port 0 --data-dir "$dir/frontend/data" \
    --tokens "$dir/credentials/tokens" --admin operator \
    --nats "$urls" --nats-credentials "$dir/credentials/frontend.nats" --nats-replicas "$replicas"
  wait_for "the front end" "$dir/frontend/pid" "$dir/frontend/log" log_has "$dir/frontend/log" "serving on http"
  local url; url=$(grep -o 'serving on http://[^ ]*' "$dir/frontend/log" | head -1 | cut -d' ' -f3)

  for ((w = 1; w <= workers; w++)); do
    mkdir -p "$dir/workers/$w"
    spawn "$dir/workers/$w/pid" "$dir/workers/$w/log" \
      "$cli" worker --model "$model" --nats "$urls" --nats-credentials "$dir/credentials/worker.nats" \
      --nats-replicas "$replicas" --threads "$threads" --name "worker-$w"
  done
  for ((w = 1; w <= workers; w++)); do
    wait_for "worker $w" "$dir/workers/$w/pid" "$dir/workers/$w/log" log_has "$dir/workers/$w/log" "pulling tasks"
  done

  trap - EXIT
  cat >"$dir/cluster.env" <<EOF
CRYPTOUNET_URL=$url
CRYPTOUNET_TOKEN_FILE=$dir/credentials/client.token
NATS_URLS=$urls
EOF
  cat <<EOF
cluster up in $dir: NATS ${nodes[*]} (JetStream replicas $replicas), front end, $workers worker(s)
  front end    $url
  client token $dir/credentials/client.token   (client "operator", also admin: /metrics)
  NATS         $urls   (credentials in $dir/credentials/, logs in $dir/*/log)
  run a job    build/cryptounet client --server $url --token-file $dir/credentials/client.token run ...
  stop         scripts/cluster.sh stop $dir
EOF
}

stop() {
  local dir=$1 pidfile
  [[ -d $dir ]] || die "no cluster directory $dir"
  # Workers first (their tasks go back to the queue), then the front end, then NATS.
  for pidfile in "$dir"/workers/*/pid "$dir/frontend/pid" "$dir"/nats/n*/pid; do
    [[ -e $pidfile ]] && stop_process "$pidfile"
  done
  rm -f "$dir/cluster.env"
}

stop_node() {
  local dir=$1 node=$2
  [[ -e $dir/nats/$node/pid ]] || die "no running NATS node $node in $dir"
  stop_process "$dir/nats/$node/pid"
}

case ${1:-} in
  start) (($# >= 2)) || die "usage: cluster.sh start DIR --model M.onnx [options]"; start "${@:2}" ;;
  stop) (($# == 2)) || die "usage: cluster.sh stop DIR"; stop "$2" ;;
  stop-node) (($# == 3)) || die "usage: cluster.sh stop-node DIR NODE"; stop_node "$2" "$3" ;;
  *) die "usage: cluster.sh start DIR --model M.onnx [--workers K] [--threads T] [--replicas R] | stop DIR | stop-node DIR NODE" ;;
esac
