"""mqtt_status.StatusStore against real Redis servers (standalone and a 3-master cluster).

The URLs come from MQTT_STATUS_REDIS_URL and MQTT_STATUS_REDIS_CLUSTER_URL, which
scripts/ci/store.sh exports after starting the servers. Without them every test here FAILS
(it is never skipped), like the Rust store tests: run `bash scripts/ci/store.sh`.
"""

from __future__ import annotations

import gc
import itertools
import os
import random
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from mqtt_status import (
    BatchReport,
    ConfigMismatch,
    FeedPage,
    InvalidField,
    MissingField,
    StatusEngine,
    StatusStore,
    StoreLocked,
    StoreUnavailable,
    Transition,
)

SERVERS = ["MQTT_STATUS_REDIS_URL", "MQTT_STATUS_REDIS_CLUSTER_URL"]
_count = itertools.count()


def server(var: str) -> str:
    url = os.environ.get(var)
    if not url:
        pytest.fail(f"{var} is not set: run the store tests with `bash scripts/ci/store.sh` (it starts Redis)")
    return url


def fresh_url(base: str, name: str) -> str:
    """`base` with a key prefix no other test (or earlier run) uses."""
    return f"{base}?prefix=py-{name}-{os.getpid()}-{time.time_ns()}-{next(_count)}"


TOMBS = 64  # tombstones per client: above any generated client's channels: order-independent state


@pytest.fixture(scope="module")
def stream(cli: List[str]) -> List[str]:
    """A generated fleet (duplicates, late redeliveries, flash reconnects), from the CLI."""
    out = subprocess.run(
        cli + ["generate", "--clients", "150", "--seed", "15", "--duplicates", "0.1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [l for l in out.splitlines() if l]
    assert len(lines) > 1000
    return lines


def engine_on(lines: List[str], takeover: bool = False) -> StatusEngine:
    e = StatusEngine(takeover=takeover, tombstones_per_client=TOMBS)
    report = e.ingest_many("\n".join(lines))
    assert report.errors == ()
    return e


def assert_same(store: StatusStore, e: StatusEngine, at: str) -> None:
    """Every answer of the store equals the engine's (per-instance counters aside)."""
    s, w = store.stats().to_dict(), e.stats().to_dict()
    for d in (s, w):  # this handle's own counters are not shared state
        for k in ("events", "applied", "duplicates", "late", "rejected", "wentOnline", "wentOffline"):
            d.pop(k)
    assert s == w, f"{at}: stats"
    assert store.groups() == e.groups(), at
    assert store.count_online() == e.count_online(), at
    for g in e.groups():
        assert store.count_online(g.group_id) == e.count_online(g.group_id), at
        assert store.online_clients(g.group_id) == e.online_clients(g.group_id), at
    assert store.online_clients() == e.online_clients(), at
    after: Optional[str] = None
    while True:
        page = store.online_clients(after=after, limit=7)
        assert page == e.online_clients(after=after, limit=7), f"{at}: page after {after}"
        if not page:
            break
        after = page[-1]
    # The exported state is the engine's, client by client (a fresh engine merged with it has
    # the same snapshot bytes: merging drops the per-instance counters).
    mine, theirs = StatusEngine(**e.config), StatusEngine(**e.config)
    mine.merge(StatusEngine.restore(store.snapshot()))
    theirs.merge(e)
    assert mine.snapshot() == theirs.snapshot(), f"{at}: snapshot"
    for cid in e.online_clients():
        assert store.client(cid) == e.client(cid), f"{at}: {cid}"
        assert store.is_online(cid), f"{at}: {cid}"
    assert store.client("nobody") is None and not store.is_online("nobody")


def whole_feed(store: StatusStore) -> List[Transition]:
    out: List[Transition] = []
    after: Optional[str] = None
    while True:
        page = store.transitions(after=after, limit=500)
        assert isinstance(page, FeedPage)
        if not page.entries:
            assert page.next == (after or ""), "an empty page keeps the cursor"
            return out
        assert page.next == page.entries[-1].cursor
        out.extend(entry.transition for entry in page.entries)
        after = page.next


def reported_online(e: StatusEngine, cid: str) -> bool:
    """What the feed last said of a client: online, or offline but not yet confirmed (grace)."""
    c = e.client(cid)
    return c is not None and (c.online or c.pending_offline_since is not None)


def assert_feed_tracks(feed: List[Transition], e: StatusEngine, at: str) -> None:
    """Per client the feed alternates, starting online, and ends at the engine's reported status.
    With a grace, a reconnect that ends an offline nobody reported carries `offline_since`: it
    stands for that offline and the online at once, so it follows an online."""
    last: Dict[str, bool] = {}
    for t in feed:
        was = last.get(t.client_id, False)
        last[t.client_id] = t.online
        if t.offline_since is not None:
            assert was and t.online, f"{at}: {t.client_id} reconnect with offline_since after an offline"
            continue
        assert was != t.online, f"{at}: {t.client_id} flipped twice to {t.online}"
    for cid, online in last.items():
        assert reported_online(e, cid) == online, f"{at}: feed ends wrong for {cid}"
    # Every client reported online has its feed entries: online plus pending offlines.
    assert sum(last.values()) == e.count_online() + (e.stats().pending_offline or 0), at


def key(t: Transition) -> Tuple[str, int, bool, str]:
    return (t.client_id, t.time, t.online, t.channel_id)


@pytest.mark.parametrize("var", SERVERS)
def test_batches_and_singles_answer_like_one_engine(var: str, stream: List[str]) -> None:
    store = StatusStore.open(fresh_url(server(var), "api"), tombstones_per_client=TOMBS)
    assert store.config["tombstones_per_client"] == 64
    one = StatusEngine(tombstones_per_client=TOMBS)
    returned: List[Transition] = []
    for k in range(0, len(stream), 211):
        chunk = stream[k : k + 211]
        if k % 3 == 0:
            for l in chunk[:5]:  # singles, as a push consumer's listener makes them
                t = store.ingest(l)
                assert t == one.ingest(l), var
                returned.extend([t] if t else [])
            chunk = chunk[5:]
        text = "\n".join(chunk)
        got = store.ingest_many(text)
        assert got == one.ingest_many(text), f"{var}: batch at {k}"
        returned.extend(got.transitions)
    got = store.ingest_many(stream[:50])  # an iterable of bodies: all redeliveries now
    assert got.transitions == () and got.applied == 0
    one.ingest_many(stream[:50])
    assert_same(store, one, var)
    assert store.stats().events == one.stats().events
    feed = whole_feed(store)
    assert sorted(feed, key=key) == sorted(returned, key=key), f"{var}: feed = returned transitions"
    assert_feed_tracks(feed, one, var)
    with pytest.raises(MissingField):
        store.ingest("{}")
    with pytest.raises(InvalidField) as bad:
        store.transitions(after="x")
    assert bad.value.field == "after"
    with pytest.raises(InvalidField):
        store.online_clients(limit=-1)


@pytest.mark.parametrize("var", SERVERS)
def test_bad_lines_are_reported_as_by_the_engine(var: str) -> None:
    store = StatusStore.open(fresh_url(server(var), "bad"), tombstones_per_client=TOMBS)
    one = StatusEngine(tombstones_per_client=TOMBS)
    text = '{"clientId":"a","channelId":"c","eventType":"connect","time":1}\n{"bad":1}\n\nnope\n'
    assert store.ingest_many(text) == one.ingest_many(text)
    assert store.ingest_many(["{}", text.splitlines()[0]]) == one.ingest_many(["{}", text.splitlines()[0]])
    assert store.stats().rejected == one.stats().rejected == 3


@pytest.mark.parametrize("var", SERVERS)
def test_threads_ingesting_concurrently(var: str, stream: List[str]) -> None:
    """8 threads share one handle (group commit) and 2 more have their own: like one engine; the
    feed holds exactly the transitions the threads were returned."""
    url = fresh_url(server(var), "threads")
    shared = StatusStore.open(url, takeover=True, tombstones_per_client=TOMBS)
    rng = random.Random(3)
    parts: List[List[str]] = [[] for _ in range(10)]
    for l in stream:
        parts[rng.randrange(10)].append(l)
    returned: List[Transition] = []
    lock = threading.Lock()
    errors: List[BaseException] = []
    barrier = threading.Barrier(10)

    def work(w: int) -> None:
        try:
            store = shared if w < 8 else StatusStore.open(url, takeover=True, tombstones_per_client=TOMBS)
            mine: List[Transition] = []
            barrier.wait()
            part = parts[w]
            i = 0
            while i < len(part):
                if w % 2 == 0:  # singles
                    t = store.ingest(part[i])
                    mine.extend([t] if t else [])
                    i += 1
                else:
                    n = 1 + rng.randrange(40)
                    mine.extend(store.ingest_many("\n".join(part[i : i + n])).transitions)
                    i += n
            with lock:
                returned.extend(mine)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    one = engine_on(stream, takeover=True)
    assert_same(shared, one, var)
    feed = whole_feed(shared)
    assert sorted(feed, key=key) == sorted(returned, key=key), f"{var}: feed = returned transitions"
    assert_feed_tracks(feed, one, var)


@pytest.mark.parametrize("var", SERVERS)
def test_concurrent_batches_share_commits_each_with_its_own_report(var: str, stream: List[str]) -> None:
    """8 threads call ingest_many at once on ONE handle (the GIL released while they wait): the
    calls share commits (group commit), and each thread's reports are exactly what its calls give
    on an engine alone (each thread has its own clients, so interleaving cannot matter), bad
    lines (with the caller's own line numbers) included."""
    store = StatusStore.open(fresh_url(server(var), "batches"), takeover=True, tombstones_per_client=TOMBS)
    threads = 8
    rng = random.Random(19)
    work: List[List[str]] = []
    for k in range(threads):
        # Own clients: ids renamed in plain bodies and in envelopes (whose body is a JSON string).
        lines = [
            l.replace('"clientId":"', f'"clientId":"t{k}-').replace('\\"clientId\\":\\"', f'\\"clientId\\":\\"t{k}-')
            for l in stream[k::threads]
        ]
        calls, i = [], 0
        while i < len(lines):
            n = 1 + rng.randrange(60)
            chunk = lines[i : i + n]
            if rng.randrange(5) == 0:
                chunk.insert(rng.randrange(len(chunk) + 1), "not json")
            calls.append("\n".join(chunk))
            i += n
        work.append(calls)
    got: List[List[BatchReport]] = [[] for _ in range(threads)]
    errors: List[BaseException] = []
    barrier = threading.Barrier(threads)

    def run(k: int) -> None:
        try:
            barrier.wait()
            got[k] = [store.ingest_many(c) for c in work[k]]
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    n_calls = sum(len(c) for c in work)
    commits = store.group_commits()
    assert commits < n_calls, f"{var}: {commits} commits for {n_calls} concurrent calls: nothing was grouped"
    for k in range(threads):
        alone = StatusEngine(takeover=True, tombstones_per_client=TOMBS)
        for c, r in zip(work[k], got[k]):
            e = alone.ingest_many(c)
            assert (r.applied, r.duplicates, r.late, r.rejected) == (e.applied, e.duplicates, e.late, e.rejected)
            assert [(x.index, x.code) for x in r.errors] == [(x.index, x.code) for x in e.errors], var
            assert list(r.transitions) == list(e.transitions), f"{var}: thread {k}"
    returned = [t for reports in got for r in reports for t in r.transitions]
    assert sorted(whole_feed(store), key=key) == sorted(returned, key=key), f"{var}: exactly once"


def test_the_gil_is_released_while_waiting() -> None:
    """A fake server written in Python answers the store's commands from another thread *during*
    one `open` call: possible only if the call released the GIL (else the thread could not run
    until the call timed out, and the error would be a timeout, not the server's answer)."""
    server(SERVERS[0])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            while data := conn.recv(65536):
                commands = len(re.findall(rb"(?:^|\r\n)\*\d+\r\n", data))  # RESP arrays
                conn.sendall(b"-ERR answered by the Python thread\r\n" * max(commands, 1))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with pytest.raises(StoreUnavailable) as e:
        StatusStore.open(f"redis://127.0.0.1:{port}?timeout_ms=20000&connect_timeout_ms=20000")
    assert "answered by the Python thread" in str(e.value)
    srv.close()


def test_snapshot_out_and_in(stream: List[str]) -> None:
    for var in SERVERS:
        e = engine_on(stream)
        store = StatusStore.open(fresh_url(server(var), "snap"), tombstones_per_client=TOMBS)
        half = len(stream) // 2
        store.ingest_many("\n".join(stream[:half]))
        store.load_snapshot(engine_on(stream[half:]).snapshot())
        assert_same(store, e, f"{var}: half ingested + half loaded")
        assert StatusEngine.restore(store.snapshot()).online_clients() == e.online_clients()
        with pytest.raises(ConfigMismatch):
            store.load_snapshot(StatusEngine(takeover=True, tombstones_per_client=TOMBS).snapshot())


@pytest.mark.parametrize("var", SERVERS)
def test_config_mismatch(var: str) -> None:
    url = fresh_url(server(var), "cfg")
    StatusStore.open(url, tombstones_per_client=TOMBS).ingest('{"clientId":"a","channelId":"c","eventType":"connect","time":1}')
    with pytest.raises(ConfigMismatch) as e:
        StatusStore.open(url, takeover=True, tombstones_per_client=TOMBS)
    assert e.value.code == "config_mismatch"
    assert StatusStore.open(url, tombstones_per_client=TOMBS).is_online("a")


def test_store_unavailable_on_a_closed_port() -> None:
    server(SERVERS[0])  # this stage runs with Redis; the port below is one nobody listens on
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: connecting is refused
    for url in (f"redis://127.0.0.1:{port}", f"redis+cluster://127.0.0.1:{port}"):
        with pytest.raises(StoreUnavailable) as e:
            StatusStore.open(url + "?connect_timeout_ms=500")
        assert e.value.code == "store_unavailable", url


def test_bad_arguments() -> None:
    with pytest.raises(InvalidField) as e:
        StatusStore.open("http://x")
    assert e.value.field == "url"
    with pytest.raises(InvalidField) as e:
        StatusStore.open(server(SERVERS[0]), tombstones_per_client=-1)
    assert e.value.field == "tombstonesPerClient"
    with pytest.raises(TypeError):
        StatusStore()


def test_the_file_backend_through_the_same_api(stream: List[str], tmp_path: Path) -> None:
    """`file:PATH` behind the same `open`: like one engine; a second opener is StoreLocked; the
    state survives closing and reopening; a snapshot moves between file and Redis."""
    url = f"file:{tmp_path / 'store'}"
    store = StatusStore.open(url, tombstones_per_client=TOMBS)
    half = len(stream) // 2
    for l in stream[:20]:
        store.ingest(l)
    store.ingest_many("\n".join(stream[20:half]))
    store.ingest_many(stream[half:])
    one = engine_on(stream)
    assert_same(store, one, "file")
    with pytest.raises(StoreLocked) as e:
        StatusStore.open(url, tombstones_per_client=TOMBS)
    assert e.value.code == "store_locked"
    snap = store.snapshot()
    del store
    gc.collect()  # the handle's lock goes with it
    again = StatusStore.open(url, tombstones_per_client=TOMBS)
    assert_same(again, one, "file, reopened")
    redis = StatusStore.open(fresh_url(server(SERVERS[0]), "from-file"), tombstones_per_client=TOMBS)
    redis.load_snapshot(snap)
    assert_same(redis, one, "file -> redis")


@pytest.mark.parametrize("backend", ["file", *SERVERS])
def test_grace_advance_observe_and_stale_online_answer_like_one_engine(backend: str, tmp_path: Path) -> None:
    """SPEC §9 on a store: the same calls into a store (file, standalone, cluster) and into one
    engine give the same transitions, pending offlines, stale clients and stats; the feed holds the
    confirmed offline and the observation's flip; a bad observe argument is typed and counted."""
    url = f"file:{tmp_path / 'grace'}" if backend == "file" else fresh_url(server(backend), "grace")
    store = StatusStore.open(url, offline_grace_ms=1000)
    one = StatusEngine(offline_grace_ms=1000)

    def ev(cid: str, ch: str, kind: str, t: int) -> str:
        return f'{{"clientId":"{cid}","channelId":"{ch}","eventType":"{kind}","time":{t}}}'

    calls: List[Tuple[str, object]] = [
        ("ingest", ev("GID_a@@@d1", "c1", "connect", 1000)),
        ("ingest", ev("GID_a@@@d2", "c1", "connect", 1100)),
        ("ingest", ev("GID_a@@@d1", "c1", "tcpclean", 2000)),  # pending until 3000
        ("advance", 2500),
        ("many", ev("GID_a@@@d3", "k", "connect", 2600) + '\n{"observe":{"clientId":"GID_a@@@d2","online":true,"time":2700}}'),
        ("advance", 3000),  # confirms d1
        ("observe", ("GID_a@@@d3", False, 2800)),  # closes d3's channel: pending until 3800
        ("ingest", ev("GID_a@@@d3", "k2", "connect", 5000)),  # after the grace: offlineSince 2800
    ]
    returned: List[List[Transition]] = []
    expected: List[List[Transition]] = []
    for kind, arg in calls:
        for h, out in ((store, returned), (one, expected)):
            if kind == "ingest":
                t = h.ingest(str(arg))
                out.append([t] if t else [])
            elif kind == "advance":
                assert isinstance(arg, int)
                out.append(h.advance(arg))
            elif kind == "many":
                out.append(list(h.ingest_many(str(arg)).transitions))
            else:
                assert isinstance(arg, tuple)
                cid, online, time_ms = arg
                t = h.observe(cid, online, time_ms)
                out.append([t] if t else [])
    assert returned == expected
    assert any(t.offline_since == 2800 for ts in returned for t in ts)
    assert [t.client_id for t in returned[5]] == ["GID_a@@@d1"]
    for cid in ("GID_a@@@d1", "GID_a@@@d2", "GID_a@@@d3"):
        assert store.client(cid) == one.client(cid), cid
    assert store.stale_online(1000, 6000, 10) == one.stale_online(1000, 6000, 10)
    assert [s.client_id for s in store.stale_online(1000, 6000, 10)] == ["GID_a@@@d2"]
    assert store.stats().pending_offline == one.stats().pending_offline == 0
    # Per client, in order (shards' entries interleave by their clocks, not by call order).
    feed = sorted((e.transition for e in store.transitions().entries), key=lambda t: t.client_id)
    assert feed == sorted((t for ts in expected for t in ts), key=lambda t: t.client_id)
    with pytest.raises(InvalidField) as e:
        store.observe("GID_a@@@d1", "yes", 1)  # type: ignore[arg-type]
    assert e.value.field == "online"
    assert store.stats().rejected == 1
    store.close()
