"""Batch calls release the GIL: other Python threads run while one thread's call works.

No timing is asserted. The interpreter's switch interval is set far beyond the test's length, so
a thread holding the GIL keeps it until it blocks or a native call releases it. A watcher
thread counts while it holds the GIL and then waits (releasing it). The main thread reads the
count, makes one call and reads it again: every increment in between happened while the call
ran, which is only possible if the call released the GIL. A call that keeps the GIL leaves the
count exactly unchanged (checked below with a call known to keep it), whatever the machine's
speed or load; a call that releases it lets the watcher run many times, since each call here
works for a good fraction of a second.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from mqtt_status import StatusEngine, StatusStore


class Watcher:
    """A thread that counts whenever it gets the GIL."""

    def __init__(self) -> None:
        self.count = 0
        self.stop = threading.Event()
        self.running = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        self.running.set()
        while not self.stop.is_set():
            self.count += 1
            self.stop.wait(0.0002)  # releases the GIL: the main thread continues after its call

    def during(self, call: Callable[[], object]) -> int:
        """How many times the watcher ran while `call` ran."""
        before = self.count
        call()
        return self.count - before


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)  # no forced switches: only releases let the watcher in
    w = Watcher()
    w.thread.start()
    w.running.wait()
    try:
        yield w
    finally:
        w.stop.set()
        w.thread.join()
        sys.setswitchinterval(interval)


def fleet(clients: int) -> List[str]:
    """Connect/tcpclean lines of `clients` devices, three channels each."""
    lines = []
    for c in range(clients):
        for ch in range(3):
            t = 1_700_000_000_000 + c * 10 + ch * 3
            for kind, dt in (("connect", 0), ("tcpclean", 1)):
                lines.append(json.dumps({"clientId": f"GID_gil@@@d{c}", "channelId": f"c{c}-{ch}",
                                         "eventType": kind, "time": t + dt}, separators=(",", ":")))
    return lines


LINES = fleet(40_000)  # 240 000 events: a batch that works well beyond a scheduler tick
BATCH = ("\n".join(LINES) + "\n").encode()


def test_a_call_that_keeps_the_gil_lets_no_one_run(watcher: Watcher) -> None:
    # The control: pure Python work holds the GIL, so the test above can fail.
    assert watcher.during(lambda: sum(i * i for i in range(2_000_000))) == 0


def test_engine_batches_release_the_gil(watcher: Watcher) -> None:
    engine = StatusEngine()
    assert watcher.during(lambda: engine.ingest_many(BATCH)) > 0, "ingest_many (bytes)"
    assert watcher.during(lambda: StatusEngine().ingest_many(BATCH.decode())) > 0, "ingest_many (str)"
    assert watcher.during(lambda: StatusEngine().ingest_many(LINES)) > 0, "ingest_many (list of lines)"
    assert watcher.during(engine.snapshot) > 0, "snapshot"
    snap = engine.snapshot()
    assert watcher.during(lambda: StatusEngine.restore(snap)) > 0, "restore"
    assert watcher.during(lambda: StatusEngine().merge(engine)) > 0, "merge"


def test_store_calls_release_the_gil(watcher: Watcher, tmp_path: Path) -> None:
    # Every store method goes through one GIL-releasing call path (bindings/python/src/store.rs):
    # a file store's big batch shows it without a server.
    with StatusStore.open(f"file:{tmp_path / 'store'}") as store:
        assert watcher.during(lambda: store.ingest_many(BATCH)) > 0, "StatusStore.ingest_many"
