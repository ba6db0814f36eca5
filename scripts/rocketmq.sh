#!/usr/bin/env bash
# A local Apache RocketMQ 5.x for the end-to-end tests: name server + broker + gRPC proxy
# ("local" mode: broker and proxy in one JVM), all on 127.0.0.1, fetched from Maven Central.
#
#   scripts/rocketmq.sh fetch           download the pinned jars into the cache (once)
#   scripts/rocketmq.sh start           fetch, start, wait for boot, create the topic
#   scripts/rocketmq.sh status          pids, listeners and connections of the servers
#   scripts/rocketmq.sh stop            stop both servers by pid
#   scripts/rocketmq.sh admin ARGS...   run MQAdminStartup (mqadmin) against the name server
#   scripts/rocketmq.sh classpath       print the classpath of the cached jars
#
# Environment (all optional):
#   ROCKETMQ_VERSION   pinned server version (default below)
#   ROCKETMQ_CACHE     jar cache (default ~/.cache/mqtt-status/rocketmq-$ROCKETMQ_VERSION)
#   ROCKETMQ_RUN       run dir: configs, store, logs, pids (default target/rocketmq)
#   ROCKETMQ_TOPIC     topic to create (default GID_meter_MQTT), ROCKETMQ_QUEUES (default 4)
#   ROCKETMQ_NAMESRV_PORT 9876, ROCKETMQ_BROKER_PORT 10911, ROCKETMQ_PROXY_PORT 8081 (gRPC),
#   ROCKETMQ_PROXY_REMOTING_PORT 8080, ROCKETMQ_BOOT_TIMEOUT seconds (default 180)
#
# Loopback only: the servers advertise 127.0.0.1 (brokerIP1, localServeAddr, namesrvAddr), the
# name server and broker bind 127.0.0.1 (bindAddress); by default RocketMQ would advertise the
# host's first non-loopback address and clients would then connect there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${ROCKETMQ_VERSION:-5.3.3}"
CACHE="${ROCKETMQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-status/rocketmq-$VERSION}"
RUN="${ROCKETMQ_RUN:-$ROOT/target/rocketmq}"
TOPIC="${ROCKETMQ_TOPIC:-GID_meter_MQTT}"
QUEUES="${ROCKETMQ_QUEUES:-4}"
NAMESRV_PORT="${ROCKETMQ_NAMESRV_PORT:-9876}"
BROKER_PORT="${ROCKETMQ_BROKER_PORT:-10911}"
PROXY_PORT="${ROCKETMQ_PROXY_PORT:-8081}"
PROXY_REMOTING_PORT="${ROCKETMQ_PROXY_REMOTING_PORT:-8080}"
BOOT_TIMEOUT="${ROCKETMQ_BOOT_TIMEOUT:-180}"
NAMESRV="127.0.0.1:$NAMESRV_PORT"

# JDK 17 needs these for RocketMQ's direct-buffer and reflection tricks.
JAVA_OPENS=(--add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED)

log() { echo "rocketmq: $*" >&2; }

fetch() {
    if [ -f "$CACHE/.complete" ]; then
        return 0
    fi
    command -v mvn >/dev/null || { log "mvn (Maven) is required to fetch RocketMQ"; exit 1; }
    log "fetching Apache RocketMQ $VERSION from Maven Central into $CACHE (once)"
    local start=$SECONDS tmp="$CACHE.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # A throwaway pom whose only job is to resolve the server artifacts and their dependencies.
    cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mqtt-status</groupId>
  <artifactId>rocketmq-server-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-namesrv</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-broker</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-proxy</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-tools</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
EOF
    (cd "$tmp" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime 2>&1 |
        sed -e 's/\x1b\[0m//g')
    rm -rf "$CACHE"
    mv "$tmp" "$CACHE"
    touch "$CACHE/.complete"
    log "fetched $(ls "$CACHE/lib" | wc -l) jars, $(du -sh "$CACHE/lib" | cut -f1), in $((SECONDS - start)) s"
}

classpath() { echo "$CACHE/lib/*"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_configs() {
    mkdir -p "$RUN/conf" "$RUN/logs" "$RUN/store" "$RUN/home"
    cat >"$RUN/conf/namesrv.conf" <<EOF
listenPort=$NAMESRV_PORT
bindAddress=127.0.0.1
EOF
    # One second per delay level (18 levels) so a failed message comes back in seconds; the
    # retry count stays RocketMQ's default (16).
    local levels
    levels="$(printf '1s %.0s' $(seq 18))"
    cat >"$RUN/conf/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
namesrvAddr=$NAMESRV
brokerIP1=127.0.0.1
brokerIP2=127.0.0.1
bindAddress=127.0.0.1
listenPort=$BROKER_PORT
haListenPort=$((BROKER_PORT + 1))
storePathRootDir=$RUN/store
storePathCommitLog=$RUN/store/commitlog
mappedFileSizeCommitLog=67108864
mappedFileSizeConsumeQueue=600000
diskMaxUsedSpaceRatio=95
autoCreateTopicEnable=false
autoCreateSubscriptionGroup=true
messageDelayLevel=${levels% }
EOF
    cat >"$RUN/conf/rmq-proxy.json" <<EOF
{
  "rocketMQClusterName": "DefaultCluster",
  "namesrvAddr": "$NAMESRV",
  "localServeAddr": "127.0.0.1",
  "grpcServerPort": $PROXY_PORT,
  "remotingListenPort": $PROXY_REMOTING_PORT,
  "minInvisibleTimeMillsForRecv": 1000
}
EOF
}

# wait_for LOG PATTERN PIDFILE NAME: waits for PATTERN in LOG; prints the logs on failure.
wait_for() {
    local logf="$1" pattern="$2" pidf="$3" name="$4" waited=0
    while ! grep -q "$pattern" "$logf" 2>/dev/null; do
        if ! pid_alive "$pidf"; then
            log "$name exited before booting; its output:"
            tail -n 60 "$logf" >&2 || true
            dump_logs
            return 1
        fi
        if [ "$waited" -ge "$((BOOT_TIMEOUT * 5))" ]; then
            log "$name did not boot within $BOOT_TIMEOUT s; its output:"
            tail -n 60 "$logf" >&2 || true
            dump_logs
            return 1
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

dump_logs() {
    local f
    for f in "$RUN"/home/logs/rocketmqlogs/{namesrv,broker,proxy}.log; do
        [ -f "$f" ] && { echo "---- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
    done
    return 0
}

java_cmd() {
    # user.home: RocketMQ's logback configs write under ${user.home}/logs/rocketmqlogs; keep them
    # (and any other default path) inside the run dir.
    echo java "${JAVA_OPENS[@]}" -Duser.home="$RUN/home" -Drocketmq.home.dir="$RUN" \
        -Drocketmq.client.logRoot="$RUN/logs" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
}

start() {
    fetch
    if pid_alive "$RUN/namesrv.pid" || pid_alive "$RUN/proxy.pid"; then
        log "already running (pids in $RUN); stop it first"
        exit 1
    fi
    command -v java >/dev/null || { log "java (JDK 17+) is required"; exit 1; }
    local start_t=$SECONDS
    rm -rf "$RUN/store" "$RUN/home" "$RUN/logs"
    write_configs
    export ROCKETMQ_HOME="$RUN"
    local cp
    cp="$(classpath)"

    # shellcheck disable=SC2046
    $(java_cmd) -Xms128m -Xmx256m -Xmn96m -XX:MaxDirectMemorySize=64m -cp "$cp" \
        org.apache.rocketmq.namesrv.NamesrvStartup -c "$RUN/conf/namesrv.conf" \
        >"$RUN/logs/namesrv.out" 2>&1 &
    echo $! >"$RUN/namesrv.pid"
    wait_for "$RUN/logs/namesrv.out" "boot success" "$RUN/namesrv.pid" "name server"
    log "name server up on $NAMESRV (pid $(cat "$RUN/namesrv.pid")) after $((SECONDS - start_t)) s"

    # shellcheck disable=SC2046
    $(java_cmd) -Xms512m -Xmx768m -Xmn256m -XX:MaxDirectMemorySize=512m -cp "$cp" \
        org.apache.rocketmq.proxy.ProxyStartup -pm local -bc "$RUN/conf/broker.conf" \
        -pc "$RUN/conf/rmq-proxy.json" >"$RUN/logs/proxy.out" 2>&1 &
    echo $! >"$RUN/proxy.pid"
    wait_for "$RUN/logs/proxy.out" "startup successfully" "$RUN/proxy.pid" "broker+proxy"
    log "broker on 127.0.0.1:$BROKER_PORT, gRPC proxy on 127.0.0.1:$PROXY_PORT (pid $(cat "$RUN/proxy.pid")) after $((SECONDS - start_t)) s"

    # The broker registers with the name server asynchronously: retry until the topic exists.
    local tries=0
    until admin updateTopic -n "$NAMESRV" -c DefaultCluster -t "$TOPIC" -r "$QUEUES" -w "$QUEUES" \
        >"$RUN/logs/topic.out" 2>&1 && grep -q "success" "$RUN/logs/topic.out"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then
            log "could not create topic $TOPIC:"
            cat "$RUN/logs/topic.out" >&2
            dump_logs
            exit 1
        fi
        sleep 1
    done
    log "topic $TOPIC ($QUEUES queues) ready; started in $((SECONDS - start_t)) s"
}

admin() {
    export ROCKETMQ_HOME="$RUN"
    java "${JAVA_OPENS[@]}" -Duser.home="$RUN/home" -Drocketmq.client.logRoot="$RUN/logs" \
        -Xmx128m -XX:+UseSerialGC -cp "$(classpath)" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}

stop() {
    local f pid
    for f in proxy namesrv; do
        if pid_alive "$RUN/$f.pid"; then
            pid="$(cat "$RUN/$f.pid")"
            kill "$pid"
            # The broker flushes and unregisters on SIGTERM: give it up to 30 s.
            for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                log "$f (pid $pid) did not stop in 30 s; killing"
                kill -9 "$pid" 2>/dev/null || true
            fi
            log "stopped $f (pid $pid)"
        fi
        rm -f "$RUN/$f.pid"
    done
}

status() {
    local f up=0
    for f in namesrv proxy; do
        if pid_alive "$RUN/$f.pid"; then
            echo "$f: running, pid $(cat "$RUN/$f.pid")"
            up=$((up + 1))
        else
            echo "$f: stopped"
        fi
    done
    if [ "$up" -gt 0 ]; then
        local pids
        pids="$(cat "$RUN"/*.pid 2>/dev/null | paste -sd'|')"
        echo "listeners and connections:"
        ss -tanp 2>/dev/null | grep -E "pid=($pids)," || true
    fi
    [ "$up" -eq 2 ]
}

case "${1:-}" in
    fetch) fetch ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    admin) shift; admin "$@" ;;
    classpath) fetch; classpath ;;
    *) echo "usage: $0 fetch|start|stop|status|admin ARGS...|classpath" >&2; exit 2 ;;
esac
