"""A store handle's life (file backend, so no server is needed): ``close()``, ``with``, the
file lock released on close, ``StoreClosed`` afterwards, and the query methods the engine and
the store share answering alike."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, List

import pytest

from mqtt_status import StatusEngine, StatusError, StatusStore, StoreClosed, StoreLocked, StoreUnavailable

EVENTS = [
    '{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1000}',
    '{"clientId":"GID_a@@@d2","channelId":"c2","eventType":"connect","time":1001}',
    '{"clientId":"GID_b@@@d3","channelId":"c3","eventType":"connect","time":1002}',
    '{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"tcpclean","time":1003}',
]


def test_with_closes_and_releases_the_file_lock(tmp_path: Path) -> None:
    url = f"file:{tmp_path / 'store'}"
    with StatusStore.open(url) as store:
        assert not store.closed
        store.ingest_many(EVENTS)
        with pytest.raises(StoreLocked):
            StatusStore.open(url)
    assert store.closed
    assert repr(store) == "StatusStore(closed)"
    # The lock went with close(), while `store` is still referenced.
    with StatusStore.open(url) as again:
        assert again.online_clients() == ["GID_a@@@d2", "GID_b@@@d3"]


def test_a_closed_handle_raises_store_closed_on_every_call(tmp_path: Path) -> None:
    store = StatusStore.open(f"file:{tmp_path / 'store'}")
    store.ingest(EVENTS[0])
    snap = store.snapshot()
    store.close()
    store.close()  # closing again does nothing
    calls: List[Callable[[], object]] = [
        lambda: store.ingest(EVENTS[1]),
        lambda: store.ingest_many(EVENTS),
        lambda: store.ingest_many(EVENTS[:1]),
        lambda: store.is_online("GID_a@@@d1"),
        lambda: store.client("GID_a@@@d1"),
        lambda: store.online_clients(),
        lambda: store.count_online(),
        lambda: store.groups(),
        lambda: store.stats(),
        lambda: store.config,
        lambda: store.snapshot(),
        lambda: store.load_snapshot(snap),
        lambda: store.transitions(),
    ]
    for call in calls:
        with pytest.raises(StoreClosed) as e:
            call()
        assert e.value.code == "store_closed" and e.value.field is None
        assert isinstance(e.value, StatusError) and not isinstance(e.value, StoreUnavailable)


def test_the_with_block_closes_on_an_exception(tmp_path: Path) -> None:
    url = f"file:{tmp_path / 'store'}"
    with pytest.raises(RuntimeError):
        with StatusStore.open(url) as store:
            raise RuntimeError("boom")
    assert store.closed
    StatusStore.open(url).close()


def test_close_waits_for_the_calls_running_in_other_threads(tmp_path: Path) -> None:
    store = StatusStore.open(f"file:{tmp_path / 'store'}")
    lines = [
        f'{{"clientId":"GID_t@@@d{i}","channelId":"c{i}","eventType":"connect","time":{1000 + i}}}' for i in range(20_000)
    ]
    results: List[object] = []

    def work() -> None:
        try:
            results.append(store.ingest_many("\n".join(lines)).applied)
        except StoreClosed as e:
            results.append(e)

    t = threading.Thread(target=work)
    t.start()
    store.close()
    t.join()
    # The batch either ran to its end before the close or never started: never half-applied.
    assert results == [20_000] or isinstance(results[0], StoreClosed)
    with StatusStore.open(f"file:{tmp_path / 'store'}") as again:
        assert again.count_online() in (0, 20_000)


def test_engine_and_store_answer_alike(tmp_path: Path) -> None:
    engine = StatusEngine()
    engine.ingest_many(EVENTS)
    with StatusStore.open(f"file:{tmp_path / 'store'}") as store:
        store.ingest_many(EVENTS)
        for name in ("online_clients", "count_online", "groups"):
            assert getattr(store, name)() == getattr(engine, name)(), name
        assert store.client("GID_a@@@d1") == engine.client("GID_a@@@d1")
        assert store.is_online("GID_a@@@d2") is engine.is_online("GID_a@@@d2") is True
        assert store.config == engine.config
        assert StatusEngine.restore(store.snapshot()).online_clients() == engine.online_clients()


def test_a_store_takes_a_grace_and_has_the_grace_methods(tmp_path: Path) -> None:
    """A store keeps an offline grace (SPEC §9, issue 17): the grace survives reopening, and
    ``advance``, ``observe`` and ``stale_online`` answer as the engine's; a store opened with
    another grace is ``ConfigMismatch``."""
    from mqtt_status import ConfigMismatch

    url = f"file:{tmp_path / 'store'}"
    body = '{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"%s","time":%d}'
    with StatusStore.open(url, offline_grace_ms=30_000) as store:
        assert store.config["offline_grace_ms"] == 30_000
        assert store.ingest(body % ("connect", 1000)) is not None
        assert store.ingest(body % ("tcpclean", 2000)) is None  # pending
        assert store.stats().pending_offline == 1
    with pytest.raises(ConfigMismatch):
        StatusStore.open(url, offline_grace_ms=0)
    with StatusStore.open(url, offline_grace_ms=30_000) as store:
        client = store.client("GID_a@@@d1")
        assert client is not None and client.pending_offline_since == 2000
        assert [t.time for t in store.advance(32_000)] == [2000]
        assert store.observe("GID_a@@@d2", True, 5000) is not None
        assert [s.client_id for s in store.stale_online(1000, 9000, 5)] == ["GID_a@@@d2"]
