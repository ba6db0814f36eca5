"""Cross-language multi-writer test of the status store (issue 15, SPEC §8), run by run.sh.

One generated stream (`mqtt-status generate`: duplicates, late redeliveries, flash reconnects) is
split at random (fixed seeds) among 4 writer processes — Rust (rust-writer), Python (writer.py)
and two Node (writer.mjs) — that start together and race on the same clients, against the
standalone server and the cluster (MQTT_STATUS_REDIS_URL, MQTT_STATUS_REDIS_CLUSTER_URL; missing:
failure). Afterwards:
- every query equals one StatusEngine's on the whole stream (test_store.assert_same);
- the feed holds exactly the transitions the writers were returned (one per flip of the shared
  state, each to one writer), alternates per client and ends at each client's final status;
- the snapshot() bytes of the store read from Rust, Python and Node are identical.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))

from mqtt_status import StatusEngine, StatusStore  # noqa: E402
from test_store import assert_feed_tracks, assert_same, whole_feed  # noqa: E402

RUST = os.environ.get("STORE_WRITER", str(ROOT / "target" / "release" / "store-writer"))
CLI = os.environ.get("MQTT_STATUS_CLI", str(ROOT / "target" / "release" / "mqtt-status"))
NODE = os.environ.get("NODE", "node")


def env_url(var: str) -> str:
    url = os.environ.get(var)
    if not url:
        sys.exit(f"FAIL: {var} is not set: run `bash scripts/ci/store.sh` (it starts Redis)")
    return url


def commands(url: str, options: str, parts: List[Path], seed: int) -> List[Tuple[str, List[str]]]:
    py, mjs = str(HERE / "writer.py"), str(HERE / "writer.mjs")
    args = lambda i: [url, options, str(parts[i]), str(seed * 10 + i)]  # noqa: E731
    return [
        ("rust", [RUST, "write", *args(0)]),
        ("python", [sys.executable, py, "write", *args(1)]),
        ("node-1", [NODE, mjs, "write", *args(2)]),
        ("node-2", [NODE, mjs, "write", *args(3)]),
    ]


def race(url: str, options: str, lines: List[str], seed: int, tmp: Path) -> List[Dict[str, Any]]:
    """Runs the 4 writers on a random split of `lines`; every transition they were returned."""
    rng = random.Random(seed)
    split: List[List[str]] = [[] for _ in range(4)]
    for l in lines:
        split[rng.randrange(4)].append(l)
    parts = []
    for i, part in enumerate(split):
        p = tmp / f"part-{seed}-{i}.jsonl"
        p.write_text("\n".join(part) + "\n", encoding="utf-8")
        parts.append(p)
    procs = []
    for name, cmd in commands(url, options, parts, seed):
        procs.append((name, subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)))
    for name, p in procs:
        assert p.stdout is not None
        ready = p.stdout.readline().strip()
        assert ready == "ready", f"{name} did not start: {ready!r} (exit {p.poll()})"
    for _, p in procs:  # the start signal, to all at once: they race from here
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    returned: List[Dict[str, Any]] = []
    for name, p in procs:
        out, _ = p.communicate()
        assert p.returncode == 0, f"{name} exited {p.returncode}"
        got = out.splitlines()
        assert got and got[-1] == "done", f"{name}: no 'done' line"
        returned.extend(json.loads(l) for l in got[:-1])
        print(f"   {name}: {len(split[[n for n, _ in procs].index(name)])} events, {len(got) - 1} flips returned")
    return returned


def snapshot_bytes(url: str, options: str, tmp: Path) -> Dict[str, bytes]:
    """The store's snapshot() as read from each language."""
    out = {}
    for name, cmd in [
        ("rust", [RUST, "snapshot", url, options]),
        ("node", [NODE, str(HERE / "writer.mjs"), "snapshot", url, options]),
    ]:
        path = tmp / f"snap-{name}.bin"
        subprocess.run(cmd + [str(path)], check=True)
        out[name] = path.read_bytes()
    o = json.loads(options)
    store = StatusStore.open(url, takeover=o["takeover"], tombstones_per_client=o["tombstonesPerClient"])
    out["python"] = store.snapshot()
    return out


def check(base: str, server: str, takeover: bool, lines: List[str], seed: int, tmp: Path) -> None:
    at = f"{server} takeover={takeover} seed={seed}"
    print(f"== {at}: {len(lines)} events, 4 writers")
    options = json.dumps({"takeover": takeover, "tombstonesPerClient": 64})
    url = f"{base}?prefix=xlang-{os.getpid()}-{time.time_ns()}-{seed}"
    returned = race(url, options, lines, seed, tmp)
    one = StatusEngine(takeover=takeover, tombstones_per_client=64)
    report = one.ingest_many("\n".join(lines))
    assert report.errors == ()
    store = StatusStore.open(url, takeover=takeover, tombstones_per_client=64)
    assert_same(store, one, at)
    feed = whole_feed(store)
    assert_feed_tracks(feed, one, at)
    key = lambda d: json.dumps(d, sort_keys=True)  # noqa: E731
    fed = sorted((key(t.to_dict()) for t in feed))
    got = sorted(key(t) for t in returned)
    assert len(fed) == len(got), f"{at}: {len(fed)} feed entries, {len(got)} transitions returned"
    assert fed == got, f"{at}: the feed is not what the writers were returned"
    snaps = snapshot_bytes(url, options, tmp)
    assert snaps["rust"] == snaps["python"] == snaps["node"], f"{at}: snapshot bytes differ between languages"
    print(f"   ok: queries = one engine's; feed = {len(fed)} flips returned once each; snapshot "
          f"{len(snaps['rust'])} bytes identical from Rust, Python, Node")


def main() -> None:
    servers = [("standalone", env_url("MQTT_STATUS_REDIS_URL")), ("cluster", env_url("MQTT_STATUS_REDIS_CLUSTER_URL"))]
    gen = [CLI, "generate", "--clients", "400", "--seed", "21", "--duplicates", "0.15", "--events-per-client", "4..40"]
    lines = [l for l in subprocess.run(gen, check=True, capture_output=True, text=True).stdout.splitlines() if l]
    # A few hot clients too: the writers collide on the same records all the time.
    hot_gen = [CLI, "generate", "--clients", "6", "--seed", "22", "--duplicates", "0.2", "--events-per-client", "60"]
    hot = [l for l in subprocess.run(hot_gen, check=True, capture_output=True, text=True).stdout.splitlines() if l]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for k, (server, base) in enumerate(servers):
            for takeover in (False, True):
                check(base, server, takeover, lines, 100 + k * 2 + takeover, tmp)
            check(base, server, True, hot, 200 + k, tmp)
    print("cross-language multi-writer: OK")


if __name__ == "__main__":
    main()
