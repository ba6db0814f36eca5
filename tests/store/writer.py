"""The Python writer of the cross-language multi-writer test (protocol: rust-writer/src/main.rs).

python writer.py write URL OPTIONS_JSON PART SEED | feed URL OPTIONS_JSON PART SEED START
                | snapshot URL OPTIONS_JSON OUT
"""

from __future__ import annotations

import json
import sys
from typing import List, Optional

from mqtt_status import StatusStore, Transition

MASK = (1 << 64) - 1


class Rng:
    """xorshift64*, as the Rust writer's."""

    def __init__(self, seed: int) -> None:
        self.s = seed | 1

    def below(self, n: int) -> int:
        self.s ^= self.s >> 12
        self.s ^= (self.s << 25) & MASK
        self.s ^= self.s >> 27
        return ((self.s * 0x2545F4914F6CDD1D) & MASK) % n


def open_store(url: str, options: str) -> StatusStore:
    o = json.loads(options)
    return StatusStore.open(
        url,
        takeover=o.get("takeover", False),
        tombstones_per_client=o.get("tombstonesPerClient", 8),
        offline_grace_ms=o.get("offlineGraceMs", 0),
    )


def advance_to(line: str) -> Optional[int]:
    """A line `{"advance":T}` (the crash test's grace round) is an `advance(T)` call."""
    if line.startswith('{"advance":') and line.endswith("}"):
        return int(line[len('{"advance":') : -1])
    return None


def batch_len(lines: List[str], i: int, want: int) -> int:
    """At most `want` lines from `i`, stopping before the next `advance` line."""
    n = 0
    while n < want and i + n < len(lines) and advance_to(lines[i + n]) is None:
        n += 1
    return max(n, 1)


def feed(store: StatusStore, lines: List[str], seed: int, start: int) -> None:
    """Ingests from `start`, printing `ack N` after each call returned (the crash test); a line
    `{"advance":T}` is an `advance(T)` call, acknowledged the same way."""
    rng = Rng(seed + start)
    i = start
    while i < len(lines):
        now = advance_to(lines[i])
        if now is not None:
            store.advance(now)
            i += 1
        elif rng.below(4) == 0:
            store.ingest(lines[i])
            i += 1
        else:
            n = batch_len(lines, i, 1 + rng.below(60))
            report = store.ingest_many("\n".join(lines[i : i + n]))
            assert report.errors == (), report.errors
            i += n
        print(f"ack {i}", flush=True)
    print("done", flush=True)


def main() -> None:
    cmd, url, options, path = sys.argv[1:5]
    store = open_store(url, options)
    if cmd == "snapshot":
        with open(path, "wb") as f:
            f.write(store.snapshot())
        return
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l]
    if cmd == "feed":
        feed(store, lines, int(sys.argv[5]), int(sys.argv[6]))
        return
    rng = Rng(int(sys.argv[5]))
    print("ready", flush=True)
    sys.stdin.readline()
    got: List[Transition] = []
    i = 0
    while i < len(lines):
        if rng.below(4) == 0:
            t = store.ingest(lines[i])
            if t is not None:
                got.append(t)
            i += 1
        else:
            n = min(1 + rng.below(60), len(lines) - i)
            report = store.ingest_many("\n".join(lines[i : i + n]))
            assert report.errors == (), report.errors
            got.extend(report.transitions)
            i += n
    for t in got:
        print(json.dumps(t.to_dict(), separators=(",", ":")))
    print("done", flush=True)


if __name__ == "__main__":
    main()
