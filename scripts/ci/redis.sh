#!/usr/bin/env bash
# Redis for the store tests, on 127.0.0.1 only: `start` installs redis-server/redis-tools (and
# openssl, for the TLS test) from Debian if missing, starts a standalone server (port 6390, AOF
# on) and a 3-master Redis Cluster (ports 7101-7103) in the background under target/redis-run,
# and waits until both answer;
# `stop` stops them by pid. Idempotent: start skips a server already running, stop one not running.
# `start-one PORT` / `stop-one PORT`: one more standalone server on 127.0.0.1:PORT (no persistence),
# for a stage that needs a Redis of its own (the e2e stage: 6391); its pid is in RUN/PORT/pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
run="${MQTT_STATUS_REDIS_RUN:-$PWD/target/redis-run}"
# Ports: MQTT_STATUS_REDIS_PORT and MQTT_STATUS_REDIS_CLUSTER_PORTS (three, space-separated) move
# them (two checkouts testing at once on one machine); these are the defaults.
standalone="${MQTT_STATUS_REDIS_PORT:-6390}"
read -r -a cluster <<<"${MQTT_STATUS_REDIS_CLUSTER_PORTS:-7101 7102 7103}"

install() {
  # openssl makes the TLS test's certificate (store/tests/redis_failures.rs).
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v openssl >/dev/null && return
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server redis-tools openssl
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

serve() { # port, extra args...
  local port=$1 dir="$run/$1"
  shift
  mkdir -p "$dir"
  alive "$dir/pid" && return
  (cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no \
    --appendonly yes --save '' --logfile "$dir/log" --pidfile "$dir/redis.pid" "$@") &
  echo $! >"$dir/pid"
}

wait_ping() {
  # Up to 60 s: a server reloading a big AOF answers only once it is loaded.
  for _ in $(seq 600); do
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && return
    sleep 0.1
  done
  echo "redis on port $1 did not start; log:" >&2
  cat "$run/$1/log" >&2 || true
  exit 1
}

start() {
  install
  serve $standalone
  for p in "${cluster[@]}"; do
    serve "$p" --cluster-enabled yes --cluster-config-file "$run/$p/nodes.conf" --cluster-announce-ip 127.0.0.1
  done
  for p in $standalone "${cluster[@]}"; do wait_ping "$p"; done
  if ! redis-cli -h 127.0.0.1 -p "${cluster[0]}" cluster info | grep -q cluster_state:ok; then
    local known
    known=$(redis-cli -h 127.0.0.1 -p "${cluster[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
    if [ "$known" = 1 ]; then
      redis-cli --cluster create "${cluster[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$run/cluster-create.log"
    fi
    for _ in $(seq 200); do
      local ok=1
      for p in "${cluster[@]}"; do
        redis-cli -h 127.0.0.1 -p "$p" cluster info | grep -q cluster_state:ok || ok=0
      done
      [ $ok = 1 ] && break
      sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "${cluster[0]}" cluster info | grep -q cluster_state:ok \
      || { echo "cluster did not reach cluster_state:ok" >&2; exit 1; }
  fi
  echo "redis: standalone redis://127.0.0.1:$standalone, cluster redis+cluster://127.0.0.1:${cluster[0]},127.0.0.1:${cluster[1]},127.0.0.1:${cluster[2]}"
}

stop() {
  for p in $standalone "${cluster[@]}"; do
    local pidf="$run/$p/pid"
    if alive "$pidf"; then
      kill "$(cat "$pidf")"
      for _ in $(seq 100); do alive "$pidf" || break; sleep 0.1; done
    fi
    rm -f "$pidf"
  done
}

start_one() {
  install
  serve "$1" --appendonly no
  wait_ping "$1"
  echo "redis: standalone redis://127.0.0.1:$1 (pid $(cat "$run/$1/pid"))"
}

stop_one() {
  local pidf="$run/$1/pid"
  if alive "$pidf"; then
    kill "$(cat "$pidf")"
    for _ in $(seq 100); do alive "$pidf" || break; sleep 0.1; done
  fi
  rm -f "$pidf"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  start-one) start_one "${2:?start-one PORT}" ;;
  stop-one) stop_one "${2:?stop-one PORT}" ;;
  *) echo "usage: $0 start|stop|start-one PORT|stop-one PORT" >&2; exit 2 ;;
esac
