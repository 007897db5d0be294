#!/usr/bin/env bash
# A local Redis Cluster for development and the tests: 3 masters (and with --replicas=1 one replica
# each) on loopback, from Debian's redis-server, with no persistence, in a directory of its own.
#
#   scripts/redis-cluster.sh start|stop|status|pause|resume [--base-port=7100] [--replicas=0|1]
#
# The nodes listen on base-port, base-port+1, ... (and their cluster bus on each port + 10000).
# start waits until every node reports cluster_state:ok and every replica has synced with its
# master, and prints the REDIS_CLUSTER_NODES value; it does nothing when that cluster is already
# up. stop kills only the processes this script started for that base port (their pid files) and
# removes the directory; it is a no-op when the cluster is not running. status exits 0 when every
# node reports cluster_state:ok. pause stops the nodes' processes (SIGSTOP: nothing answers,
# connections stay open, as in a network partition) and resume lets them go on (SIGCONT) and
# waits for cluster_state:ok again.
set -euo pipefail

usage() { echo "usage: $0 start|stop|status|pause|resume [--base-port=7100] [--replicas=0|1]" >&2; exit 2; }

command=${1:-}
[ -n "$command" ] || usage
shift
base=7100
replicas=0
for arg in "$@"; do
  case "$arg" in
    --base-port=*) base=${arg#*=} ;;
    --replicas=*) replicas=${arg#*=} ;;
    *) usage ;;
  esac
done
[[ "$base" =~ ^[1-9][0-9]*$ ]] && [ "$base" -ge 1024 ] && [ "$base" -le 55000 ] \
  || { echo "--base-port must be between 1024 and 55000 (the cluster bus uses port + 10000)" >&2; exit 2; }
[[ "$replicas" =~ ^[01]$ ]] || { echo "--replicas must be 0 or 1" >&2; exit 2; }

count=$((3 * (1 + replicas)))
dir="${TMPDIR:-/tmp}/slo-redis-cluster-$base"
ports=()
for i in $(seq 0 $((count - 1))); do ports+=($((base + i))); done
nodes=$(printf '127.0.0.1:%s,' "${ports[@]}")
nodes=${nodes%,}

state_of() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'; }

all_ok() {
  [ -d "$dir" ] || return 1
  local p
  for p in $(cat "$dir/ports" 2>/dev/null); do [ "$(state_of "$p")" = ok ] || return 1; done
  [ -s "$dir/ports" ]
}

# Every replica has finished its first sync with its master (so it may take over when that dies).
replicas_synced() {
  local p info
  for p in "${ports[@]}"; do
    info=$(redis-cli -h 127.0.0.1 -p "$p" info replication 2>/dev/null | tr -d '\r')
    grep -q '^role:slave' <<<"$info" || continue
    grep -q '^master_link_status:up' <<<"$info" || return 1
  done
}

# The pid in a pid file, if it is still the redis-server this script started on that port.
own_pid() {
  local file=$1 port=$2 pid
  pid=$(cat "$file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q "redis-server 127.0.0.1:$port" || return 1
  echo "$pid"
}

stop() {
  [ -d "$dir" ] || { echo "no cluster on base port $base"; return 0; }
  local file port pid pids=()
  for file in "$dir"/redis-*.pid; do
    [ -e "$file" ] || continue
    port=${file##*/redis-}
    port=${port%.pid}
    if pid=$(own_pid "$file" "$port"); then kill "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
  echo "stopped the cluster on base port $base"
}

start() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || { echo "redis-server and redis-cli are needed: apt-get install redis-server" >&2; exit 1; }
  if all_ok; then echo "$nodes"; return 0; fi
  stop >/dev/null
  mkdir -p "$dir"
  printf '%s\n' "${ports[@]}" >"$dir/ports"
  local p
  for p in "${ports[@]}"; do
    redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes --cluster-node-timeout 2000 \
      --cluster-config-file "$dir/nodes-$p.conf" --dir "$dir" --save "" --appendonly no \
      --repl-diskless-sync-delay 0 \
      --daemonize yes --pidfile "$dir/redis-$p.pid" --logfile "$dir/redis-$p.log" \
      || { echo "redis-server did not start on port $p" >&2; stop >/dev/null; exit 1; }
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 \
      || { echo "redis-server on port $p does not answer (see $dir/redis-$p.log)" >&2; stop >/dev/null; exit 1; }
  done
  local addrs=()
  for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; stop >/dev/null; exit 1; }
  for _ in $(seq 1 300); do all_ok && break; sleep 0.1; done
  all_ok || { echo "the cluster did not reach cluster_state:ok" >&2; stop >/dev/null; exit 1; }
  for _ in $(seq 1 300); do replicas_synced && break; sleep 0.1; done
  replicas_synced || { echo "the replicas did not sync with their masters" >&2; stop >/dev/null; exit 1; }
  echo "$nodes"
}

# Sends a signal to every node process this script started (their pid files).
signal_all() {
  [ -d "$dir" ] || { echo "no cluster on base port $base" >&2; exit 1; }
  local file port pid
  for file in "$dir"/redis-*.pid; do
    port=${file##*/redis-}
    port=${port%.pid}
    pid=$(own_pid "$file" "$port") && kill "-$1" "$pid"
  done
}

pause() {
  signal_all STOP
  echo "paused the cluster on base port $base"
}

resume() {
  signal_all CONT
  for _ in $(seq 1 300); do all_ok && break; sleep 0.1; done
  all_ok || { echo "the cluster did not reach cluster_state:ok again" >&2; exit 1; }
  echo "resumed the cluster on base port $base"
}

status() {
  [ -d "$dir" ] || { echo "no cluster on base port $base"; return 1; }
  local p bad=0
  for p in $(cat "$dir/ports"); do
    echo "127.0.0.1:$p cluster_state:$(state_of "$p" || true)"
    [ "$(state_of "$p")" = ok ] || bad=1
  done
  return $bad
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  pause) pause ;;
  resume) resume ;;
  *) usage ;;
esac
