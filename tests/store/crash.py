"""Crash test of the status store across languages (issue 15, SPEC §8 "commit before ack"), run by
run.sh after the multi-writer test.

One generated stream (duplicates, late redeliveries, flash reconnects) is split at random among 3
writer processes — Rust (rust-writer), Python (writer.py) and Node (writer.mjs), command `feed` —
that run at the same time on the same store, standalone and cluster. Each writer prints `ack N`
after each call returns (lines before N are committed: a consumer acknowledges them then). The
test kills each writer with SIGKILL at a random point (after a random number of its acks, plus
up to 3 ms: often inside a call), again and again, and starts it again
from its last acknowledged line — exactly what a broker does: a message not acknowledged is
redelivered — until it finishes. Then:
- every query equals one StatusEngine's on the whole stream (nothing lost, nothing counted
  twice: test_store.assert_same compares stats, groups, counts and the online lists);
- the feed alternates per client, starting online, and ends at each client's final status (no
  flip entered twice, none missing).
Then again with an offline grace (SPEC §9): observation lines in the stream and `advance` calls
among each writer's lines, killed the same way; the store, advanced by the writers, answers as
one engine fed the whole stream and advanced once to the latest time, `stale_online` included.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))

from mqtt_status import StatusEngine, StatusStore  # noqa: E402
from test_store import assert_feed_tracks, assert_same, whole_feed  # noqa: E402

RUST = os.environ.get("STORE_WRITER", str(ROOT / "target" / "release" / "store-writer"))
CLI = os.environ.get("MQTT_STATUS_CLI", str(ROOT / "target" / "release" / "mqtt-status"))
NODE = os.environ.get("NODE", "node")
# Kills per writer and server: enough to land in every phase (opening, between calls, inside
# a batch's commit), bounded so the store stage stays within its time.
KILLS = int(os.environ.get("MQTT_STATUS_CRASH_KILLS", "30"))


def env_url(var: str) -> str:
    url = os.environ.get(var)
    if not url:
        sys.exit(f"FAIL: {var} is not set: run `bash scripts/ci/store.sh` (it starts Redis)")
    return url


class Writer:
    """One writer process, killed at random points and restarted from its last ack (a thread)."""

    def __init__(self, name: str, argv: List[str], total: int, seed: int) -> None:
        self.name, self.argv, self.total = name, argv, total
        self.rng = random.Random(seed)
        self.acked, self.kills, self.mid_run, self.starts, self.done = 0, 0, 0, 0, False
        self.failure: str | None = None

    def run(self) -> None:
        try:
            while not self.done:
                self.once()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            self.failure = f"{self.name}: {e!r}"

    def once(self) -> None:
        """Starts the writer from its last ack; kills it (SIGKILL) after a random number of its
        acks, plus up to 3 ms (so the kill often lands inside a call), while kills remain."""
        self.starts += 1
        proc = subprocess.Popen(
            self.argv + [str(self.acked)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        kill = self.kills < KILLS
        target = self.rng.randint(0, 3)  # 0: killed while opening or in its first call
        seen = 0
        while kill and seen < target:
            line = proc.stdout.readline()
            if not line:
                break
            seen += self.read(line)
        if kill and proc.poll() is None:
            time.sleep(self.rng.uniform(0, 0.003))
            proc.send_signal(signal.SIGKILL)
            self.kills += 1
            self.mid_run += int(seen > 0)
        # The rest through the same buffered reader (communicate() would read the pipe behind
        # it and miss lines readline() had already buffered): the acks printed before it died
        # count too. Writers print little on stderr, so reading stdout first cannot block.
        out = proc.stdout.read()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait()
        for line in out.splitlines():
            self.read(line)
        code = proc.returncode
        at = f"start {self.starts} from {self.acked}/{self.total}, {seen} acks read, rest {out[-200:]!r}"
        assert self.done or code == -signal.SIGKILL, f"exited {code} ({at}): {err[-2000:]}"

    def read(self, line: str) -> int:
        line = line.strip()
        if line.startswith("ack "):
            n = int(line[4:])
            assert n > self.acked or n == self.acked == self.total, f"ack went from {self.acked} to {n}"
            self.acked = n
            return 1
        if line == "done":
            assert self.acked == self.total, f"done at {self.acked}/{self.total}"
            self.done = True
        return 0


def writers(url: str, options: str, parts: List[Tuple[Path, int]], seed: int) -> List[Writer]:
    py, mjs = str(HERE / "writer.py"), str(HERE / "writer.mjs")
    common = lambda i: [url, options, str(parts[i][0]), str(seed * 10 + i)]  # noqa: E731
    return [
        Writer("rust", [RUST, "feed", *common(0)], parts[0][1], seed * 10),
        Writer("python", [sys.executable, py, "feed", *common(1)], parts[1][1], seed * 10 + 1),
        Writer("node", [NODE, mjs, "feed", *common(2)], parts[2][1], seed * 10 + 2),
    ]


def with_observations(lines: List[str], rng: random.Random) -> List[str]:
    """The stream with an observation line (a query API's answer) after about every 12th event,
    for a client of the stream, at a time near that event's."""
    out: List[str] = []
    for l in lines:
        out.append(l)
        if rng.randrange(12) == 0:
            body = body_of(l)
            other = body_of(rng.choice(lines))["clientId"]
            obs = {"clientId": other, "online": rng.random() < 0.5, "time": int(body["time"]) + rng.randrange(-5000, 5000)}
            out.append(json.dumps({"observe": obs}, separators=(",", ":")))
    return out


def body_of(line: str) -> dict:
    """A generated line's notification: a bare body, or an envelope whose body is the JSON text
    or the object."""
    d = json.loads(line)
    body = d.get("body", d)
    return json.loads(body) if isinstance(body, str) else body


def event_time(line: str) -> int:
    d = json.loads(line)
    return int(d["observe"]["time"] if "observe" in d else body_of(line)["time"])


def check(base: str, server: str, lines: List[str], seed: int, tmp: Path, grace: int = 0) -> None:
    """One round on one server; with `grace`, the engine and store judge with that offline grace,
    the stream holds observations, and each writer calls `advance` now and then (a line
    `{"advance":T}` in its part: T near the line it is at; writers disagree on "now")."""
    at = f"{server} seed={seed}" + (f" grace={grace}" if grace else "")
    rng = random.Random(seed)
    if grace:
        lines = with_observations(lines, rng)
    split: List[List[str]] = [[] for _ in range(3)]
    for l in lines:
        split[rng.randrange(3)].append(l)
    latest = 0
    if grace:
        for part in split:
            k = 0
            while k < len(part):
                if rng.randrange(25) == 0:
                    now = event_time(part[k]) + rng.randrange(0, 2 * grace)
                    latest = max(latest, now)
                    part.insert(k + 1, json.dumps({"advance": now}, separators=(",", ":")))
                    k += 1
                k += 1
    parts = []
    for i, part in enumerate(split):
        p = tmp / f"crash-{seed}-{i}.jsonl"
        p.write_text("\n".join(part) + "\n", encoding="utf-8")
        parts.append((p, len(part)))
    config = {"takeover": True, "tombstonesPerClient": 64, "offlineGraceMs": grace}
    options = json.dumps(config)
    url = f"{base}?prefix=crash-{os.getpid()}-{time.time_ns()}-{seed}"
    ws = writers(url, options, parts, seed)
    t0 = time.monotonic()
    threads = [threading.Thread(target=w.run) for w in ws]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), f"{at}: a writer did not finish in 300 s"
    for w in ws:
        assert w.failure is None, f"{at}: {w.failure}"
        # The test proves something only if writers died mid-run, after committing some calls.
        assert w.mid_run >= KILLS // 3, f"{at}: {w.name} was killed mid-run only {w.mid_run} times"
    one = StatusEngine(takeover=True, tombstones_per_client=64, offline_grace_ms=grace)
    assert one.ingest_many("\n".join(lines)).errors == ()
    if latest:
        # Every advance line was acknowledged, so completed, at least once: the store is
        # advanced to the latest of them, as one engine advanced once at the end.
        one.advance(latest)
    store = StatusStore.open(url, takeover=True, tombstones_per_client=64, offline_grace_ms=grace)
    assert_same(store, one, at)
    assert_feed_tracks(whole_feed(store), one, at)
    if grace:
        # The pending and seen indexes survived the kills (stats, compared above, count pending
        # offlines from the first): the staleness answers are the engine's.
        stale = []
        for older, limit in ((0, 50), (grace, 100_000), (3_600_000, 100_000), (6 * 3_600_000, 100_000)):
            got = store.stale_online(older, latest, limit)
            assert got == one.stale_online(older, latest, limit), f"{at}: stale_online({older}, {limit})"
            stale.append(len(got))
        advances = sum(sum(1 for l in open(p, encoding="utf-8") if l.startswith('{"advance":')) for p, _ in parts)
        offline = sum(1 for t in whole_feed(store) if not t.online)
        print(f"   ({advances} advance calls, {offline} confirmed offlines in the feed, stale answers {stale})")
    summary = ", ".join(f"{w.name} {w.total} lines, {w.kills} kills ({w.mid_run} mid-run)" for w in ws)
    print(f"   ok {at}: {summary}; {time.monotonic() - t0:.1f} s; queries = one engine's, feed exact")


def main() -> None:
    servers = [("standalone", env_url("MQTT_STATUS_REDIS_URL")), ("cluster", env_url("MQTT_STATUS_REDIS_CLUSTER_URL"))]
    gen = [CLI, "generate", "--clients", "300", "--seed", "31", "--duplicates", "0.15", "--events-per-client", "4..30"]
    lines = [l for l in subprocess.run(gen, check=True, capture_output=True, text=True).stdout.splitlines() if l]
    print(f"== crash: {len(lines)} events, 3 writers (Rust, Python, Node) killed {KILLS} times each per server")
    with tempfile.TemporaryDirectory() as d:
        for k, (server, base) in enumerate(servers):
            check(base, server, lines, 300 + k, Path(d))
        # Grace, observations and advances, killed the same way (SPEC §9 on a store).
        for k, (server, base) in enumerate(servers):
            check(base, server, lines, 400 + k, Path(d), grace=30_000)
    print("cross-language crash test: OK")


if __name__ == "__main__":
    main()
