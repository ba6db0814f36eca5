"""The Python API: input forms, errors, threads, pickling, cross-language snapshots."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import mqtt_status
from mqtt_status import (
    BatchReport,
    ClientStatus,
    ConfigMismatch,
    GroupCount,
    InvalidField,
    InvalidJson,
    InvalidNotification,
    InvalidSnapshot,
    MissingField,
    Stats,
    StatusEngine,
    StatusError,
    TagMismatch,
    Transition,
    UnknownEventType,
)

from conftest import ROOT

A = "GID_meter@@@dev1"


def ev(client: str, channel: str, kind: str, time: int, ip: str = "") -> Dict[str, Any]:
    d: Dict[str, Any] = {"clientId": client, "channelId": channel, "eventType": kind, "time": time}
    if ip:
        d["clientIp"] = ip
    return d


def line(d: Dict[str, Any]) -> str:
    return json.dumps(d, separators=(",", ":"))


def fleet(n_clients: int = 40, sessions: int = 6) -> List[str]:
    lines = []
    for c in range(n_clients):
        cid = f"GID_g{c % 3}@@@dev{c:03d}"
        for s in range(sessions):
            t = 1000 * s + c
            lines.append(line(ev(cid, f"ch{c}-{s}", "connect", t, "10.0.0.1:1")))
            if s < sessions - 1 or c % 2:
                lines.append(line(ev(cid, f"ch{c}-{s}", "tcpclean", t + 500)))
    return lines


# -- Transition (a native class that behaves like a frozen dataclass) ------------------------


def test_transition_fields_equality_hash_and_repr() -> None:
    t = Transition(A, True, 1000, "c1", "connect")
    k = Transition(client_id=A, online=True, time=1000, channel_id="c1", event_type="connect")
    assert t == k and hash(t) == hash(k) and len({t, k}) == 1
    assert t != Transition(A, False, 1000, "c1", "connect") and t != (A, True, 1000, "c1", "connect")
    assert (t.client_id, t.online, t.time, t.channel_id, t.event_type) == (A, True, 1000, "c1", "connect")
    assert repr(t) == (
        f"Transition(client_id={A!r}, online=True, time=1000, channel_id='c1', event_type='connect', offline_since=None)"
    )
    assert repr(Transition("it's\n", False, 0, "é", "tcpclean")) == (
        "Transition(client_id=\"it's\\n\", online=False, time=0, channel_id='é', event_type='tcpclean', "
        "offline_since=None)"
    )
    assert t.to_dict() == {"clientId": A, "online": True, "time": 1000, "channelId": "c1", "eventType": "connect"}
    assert type(t).__module__ == "mqtt_status" and Transition.__match_args__ == (
        "client_id", "online", "time", "channel_id", "event_type", "offline_since")
    # offlineSince (grace, SPEC §9) is a key of the dict only when set, as in the JSON API.
    g = Transition(A, True, 9, "c2", "connect", 5)
    assert g.offline_since == 5 and g != Transition(A, True, 9, "c2", "connect")
    assert g.to_dict() == {"clientId": A, "online": True, "time": 9, "channelId": "c2", "eventType": "connect",
                           "offlineSince": 5}
    assert repr(g).endswith("event_type='connect', offline_since=5)") and pickle.loads(pickle.dumps(g)) == g


def test_transition_is_immutable_picklable_and_matchable() -> None:
    t = StatusEngine().ingest(line(ev(A, "c1", "connect", 7)))
    assert t is not None
    with pytest.raises(AttributeError):
        t.online = False  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(t)) == t and copy.copy(t) == t and copy.deepcopy(t) == t
    match t:
        case Transition(client_id, True, time, channel_id, "connect"):
            assert (client_id, time, channel_id) == (A, 7, "c1")
        case _:
            pytest.fail("no match")
    with pytest.raises(OverflowError):
        Transition(A, True, -1, "c1", "connect")  # time is a non-negative int
    with pytest.raises(TypeError):
        Transition(A, True, "7", "c1", "connect")  # type: ignore[arg-type]


def test_transition_fields_are_read_only_and_each_counts() -> None:
    t = Transition(A, True, 5, "c1", "connect")
    for name in Transition.__match_args__:
        with pytest.raises(AttributeError):
            setattr(t, name, getattr(t, name))
        with pytest.raises(AttributeError):
            delattr(t, name)
    with pytest.raises(AttributeError):
        t.extra = 1  # type: ignore[attr-defined]
    fields: Tuple[Any, ...] = (A, True, 5, "c1", "connect", None)
    others: Tuple[Any, ...] = ("other", False, 6, "c2", "tcpclean", 1)
    for i in range(6):
        changed = Transition(*(others[j] if j == i else fields[j] for j in range(6)))
        assert changed != t and not changed == t
    # Like the dataclass, the constructor takes any event type string, and it round-trips.
    odd = Transition("é", False, 0, "", "other")  # type: ignore[arg-type]
    assert str(odd.event_type) == "other" and odd.to_dict()["eventType"] == "other"
    assert pickle.loads(pickle.dumps(odd)) == odd and repr(odd).endswith("event_type='other', offline_since=None)")
    for kind in ("connect", "disconnect", "tcpclean", "observe"):
        assert Transition(A, True, 5, "c1", kind).event_type == kind


def test_batch_transitions_are_transition_objects_in_order() -> None:
    lines = fleet(12, 3)
    one = StatusEngine()
    expect = [t for t in (one.ingest(x) for x in lines) if t is not None]
    report = StatusEngine().ingest_many("\n".join(lines))
    assert isinstance(report.transitions, tuple) and list(report.transitions) == expect
    assert all(type(t) is Transition for t in report.transitions)
    # They hold no Python references, so the binding keeps them out of the cycle collector
    # (which otherwise walks a large batch's transitions over and over while it is built).
    assert not any(gc.is_tracked(t) for t in report.transitions) and not gc.is_tracked(expect[0])


# -- input forms ----------------------------------------------------------------------------


def test_every_body_form_gives_the_same_transition() -> None:
    body = ev(A, "c1", "connect", 1000, "203.0.113.7:5")
    forms: List[Any] = [line(body), line(body).encode(), bytearray(line(body).encode()), body]
    expect = Transition(A, True, 1000, "c1", "connect")
    for form in forms:
        e = StatusEngine()
        assert e.ingest(form) == expect
        assert e.ingest(form) is None  # redelivery
        assert e.is_online(A)


def test_tag_and_envelopes() -> None:
    e = StatusEngine()
    body = {"clientId": A, "channelId": "c1", "time": 5}
    t = e.ingest(json.dumps(body), tag="connect")
    assert t is not None and t.event_type == "connect"
    env = {"tag": "tcpclean", "body": json.dumps(body)}
    t = e.ingest(env)
    assert t == Transition(A, False, 5, "c1", "tcpclean")
    assert t.to_dict() == {"clientId": A, "online": False, "time": 5, "channelId": "c1", "eventType": "tcpclean"}


def test_envelope_forms_agree() -> None:
    body = ev(A, "c1", "connect", 7, "198.51.100.2:9")
    forms: List[Any] = [
        {"tag": "connect", "body": line(body)},  # dict envelope, body as a JSON string
        {"tag": "connect", "body": body},  # dict envelope, body as an object
        line({"tag": "connect", "body": line(body)}),  # str
        line({"tag": "connect", "body": body}).encode(),  # bytes
    ]
    expect = Transition(A, True, 7, "c1", "connect")
    snaps = set()
    for form in forms:
        e = StatusEngine()
        assert e.ingest(form) == expect
        snaps.add(e.snapshot())
        f = StatusEngine()
        assert f.ingest_many([form]).transitions == (expect,)
        assert f.snapshot() == e.snapshot()
    assert len(snaps) == 1
    with pytest.raises(TagMismatch):
        StatusEngine().ingest({"tag": "tcpclean", "body": body})


def test_ingest_many_forms_agree() -> None:
    lines = fleet(10, 3)
    jsonl = "\n".join(lines) + "\n"
    reports = []
    snaps = []
    forms: List[Any] = [jsonl, jsonl.encode(), lines, [s.encode() for s in lines], [json.loads(s) for s in lines],
                        (s for s in lines)]
    for data in forms:
        e = StatusEngine()
        r = e.ingest_many(data)
        assert isinstance(r, BatchReport)
        reports.append(r)
        snaps.append(e.snapshot())
    assert all(r == reports[0] for r in reports)
    assert all(s == snaps[0] for s in snaps)
    assert reports[0].applied == len(lines)


def test_ingest_many_until_and_errors() -> None:
    e = StatusEngine()
    jsonl = "\n".join([line(ev(A, "c1", "connect", 10)), "", "not json", line(ev(A, "c1", "tcpclean", 20))])
    r = e.ingest_many(jsonl, until=15)
    assert r.applied == 1 and len(r.transitions) == 1
    assert [(x.index, x.code, x.field) for x in r.errors] == [(2, "invalid_json", None)]
    assert r.to_dict()["errors"][0]["code"] == "invalid_json"
    assert e.is_online(A)
    # ... and for an iterable of bodies: the later event is skipped, not counted.
    f = StatusEngine()
    r = f.ingest_many([ev(A, "c1", "connect", 10), ev(A, "c1", "tcpclean", 20)], until=15)
    assert (r.applied, f.stats().events, f.is_online(A)) == (1, 1, True)


def test_queries_and_result_types() -> None:
    e = StatusEngine()
    e.ingest_many(fleet())
    ids = e.online_clients()
    assert ids == sorted(ids) and len(ids) == e.count_online() == 20
    assert e.online_clients(limit=3) == ids[:3]
    assert e.online_clients(after=ids[2], limit=2) == ids[3:5]
    assert e.count_online("GID_g0") == len(e.online_clients(group="GID_g0"))
    groups = e.groups()
    assert all(isinstance(g, GroupCount) for g in groups)
    assert [g.group_id for g in groups] == ["GID_g0", "GID_g1", "GID_g2"]
    c = e.client(ids[0])
    assert isinstance(c, ClientStatus) and c.online and c.group_id and c.channels
    d = c.to_dict()
    assert list(d) == ["clientId", "groupId", "deviceId", "online", "lastEventTime", "lastIp", "connects",
                       "horizon", "channels"]
    assert d["channels"][0]["channelId"] == c.channels[0].channel_id
    assert e.client("nobody") is None
    s = e.stats()
    assert isinstance(s, Stats) and s.online == 20 and s.to_dict()["openChannels"] == s.open_channels
    with pytest.raises(AttributeError):
        s.online = 3  # type: ignore[misc]
    assert "Stats(" in repr(s) and s == e.stats()


# -- errors ---------------------------------------------------------------------------------

ERROR_CASES = [
    ("not json", None, InvalidJson, "invalid_json", None),
    (b"\xff\xfe", None, InvalidJson, "invalid_json", None),
    ("\ud800", None, InvalidJson, "invalid_json", None),
    ('{"channelId":"c","eventType":"connect","time":1}', None, MissingField, "missing_field", "clientId"),
    ('{"clientId":"","channelId":"c","eventType":"connect","time":1}', None, InvalidField, "invalid_field",
     "clientId"),
    ('{"clientId":"a","channelId":"c","eventType":"hello","time":1}', None, UnknownEventType,
     "unknown_event_type", "eventType"),
    ('{"clientId":"a","channelId":"c","eventType":"connect","time":1}', "tcpclean", TagMismatch,
     "tag_mismatch", "tag"),
]


@pytest.mark.parametrize("body,tag,cls,code,field", ERROR_CASES)
def test_error_classes(body: Any, tag: Any, cls: type, code: str, field: Any) -> None:
    e = StatusEngine()
    e.ingest(ev("x", "c0", "connect", 1))
    before = e.snapshot()
    with pytest.raises(cls) as info:
        e.ingest(body, tag=tag)
    err = info.value
    assert isinstance(err, InvalidNotification) and isinstance(err, StatusError) and isinstance(err, ValueError)
    assert (err.code, err.field) == (code, field)
    assert str(err)
    # Only the ingest counters move (the core keeps them in the snapshot).
    s = e.stats()
    assert (s.events, s.rejected, s.applied, s.clients, s.online) == (2, 1, 1, 1, 1)
    assert e.client("x") == StatusEngine.restore(before).client("x")


def test_option_errors_are_invalid_field() -> None:
    cases: List[Tuple[Dict[str, Any], str]] = [({"max_id_len": 0}, "maxIdLen"), ({"max_id_len": 70000}, "maxIdLen"),
                          ({"max_id_len": -1}, "maxIdLen"), ({"tombstones_per_client": 5000}, "tombstonesPerClient"),
                          ({"tombstones_per_client": "8"}, "tombstonesPerClient"), ({"takeover": 1}, "takeover"),
                          ({"close_on_disconnect": "yes"}, "closeOnDisconnect")]
    for kwargs, field in cases:
        with pytest.raises(InvalidField) as info:
            StatusEngine(**kwargs)
        assert (info.value.code, info.value.field) == ("invalid_field", field)
    with pytest.raises(TypeError):
        StatusEngine(True)  # type: ignore[call-arg]


def test_snapshot_and_merge_errors() -> None:
    with pytest.raises(InvalidSnapshot) as info:
        StatusEngine.restore(b"garbage")
    assert (info.value.code, info.value.field) == ("invalid_snapshot", None)
    assert not isinstance(info.value, InvalidNotification)
    good = StatusEngine().snapshot()
    with pytest.raises(InvalidSnapshot):
        StatusEngine.restore(good[:-1])
    with pytest.raises(ConfigMismatch) as cm:
        StatusEngine().merge(StatusEngine(takeover=True))
    assert cm.value.code == "config_mismatch"
    with pytest.raises(TypeError):
        StatusEngine().ingest(42)  # type: ignore[arg-type]
    circular: Dict[str, Any] = {"clientId": "a"}
    circular["self"] = circular
    for bad in [{"clientId": b"bytes"}, circular]:
        with pytest.raises(TypeError, match="JSON-serializable"):
            StatusEngine().ingest(bad)
        with pytest.raises(TypeError, match="JSON-serializable"):
            StatusEngine().ingest_many([bad])


def test_errors_pickle() -> None:
    err = MissingField("missing field `time`", "missing_field", "time")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is MissingField and (back.code, back.field) == ("missing_field", "time")
    assert MissingField.__module__ == "mqtt_status"


# -- merge, snapshot, pickle -----------------------------------------------------------------


def test_merge_and_self_merge() -> None:
    lines = fleet(20, 4)
    a, b, whole = StatusEngine(), StatusEngine(), StatusEngine()
    a.ingest_many(lines[::2])
    b.ingest_many(lines[1::2])
    whole.ingest_many(lines)
    a.merge(b)
    assert a.online_clients() == whole.online_clients()
    before = a.snapshot()
    a.merge(a)  # no-op, no deadlock
    assert a.snapshot() == before


def test_merge_both_ways_in_threads_does_not_deadlock() -> None:
    a, b = StatusEngine(), StatusEngine()
    a.ingest_many(fleet(10, 2))
    b.ingest_many(fleet(12, 3))

    def work(x: StatusEngine, y: StatusEngine) -> None:
        for _ in range(200):
            x.merge(y)

    ts = [threading.Thread(target=work, args=(a, b)), threading.Thread(target=work, args=(b, a))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
        assert not t.is_alive(), "merge deadlocked"


def test_pickle_and_copy() -> None:
    e = StatusEngine(takeover=True, tombstones_per_client=3)
    e.ingest_many(fleet(15, 5))
    for back in [pickle.loads(pickle.dumps(e)), copy.copy(e), copy.deepcopy(e)]:
        assert back.snapshot() == e.snapshot()
        assert back.config == e.config
        assert back.online_clients() == e.online_clients()


# -- threads --------------------------------------------------------------------------------


def state(engine: StatusEngine) -> bytes:
    """The state without the per-instance ingest counters: a fresh engine merged with it."""
    fresh = StatusEngine(**engine.config)
    fresh.merge(engine)
    return fresh.snapshot()


@pytest.mark.parametrize("overlap", [False, True], ids=["disjoint", "overlapping"])
def test_threads_ingesting_and_querying_match_a_sequential_run(overlap: bool) -> None:
    lines = fleet(60, 6)  # 6 sessions per client: within the tombstone bound, so order-independent
    chunks = [lines[i::4] for i in range(4)]
    if overlap:
        # Every thread also redelivers a quarter of the others' events, in reverse.
        chunks = [chunk + lines[(i + 1) % 4::4][::-2] for i, chunk in enumerate(chunks)]
    sequential = StatusEngine()
    for chunk in chunks:
        for s in chunk:
            sequential.ingest(s)
    shared = StatusEngine()
    errors: List[BaseException] = []
    transitions: List[Transition] = []
    stop = threading.Event()

    def ingest_one_by_one(chunk: List[str]) -> None:
        try:
            for s in chunk:
                t = shared.ingest(s)
                if t is not None:
                    transitions.append(t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def ingest_batch(chunk: List[str]) -> None:
        try:
            transitions.extend(shared.ingest_many("\n".join(chunk).encode()).transitions)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def query() -> None:
        try:
            while not stop.is_set():
                shared.count_online()
                shared.online_clients(limit=5)
                shared.stats()
                shared.groups()
                shared.client("GID_g0@@@dev000")
                StatusEngine.restore(shared.snapshot())
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    workers = [threading.Thread(target=ingest_one_by_one, args=(chunks[0],)),
               threading.Thread(target=ingest_one_by_one, args=(chunks[1],)),
               threading.Thread(target=ingest_batch, args=(chunks[2],)),
               threading.Thread(target=ingest_batch, args=(chunks[3],))]
    queriers = [threading.Thread(target=query) for _ in range(2)]
    for t in workers + queriers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    stop.set()
    for t in queriers:
        t.join(timeout=120)
    assert not errors, errors
    # Nothing lost: the same events were counted, and the state is byte-identical to the
    # sequential run's (the counters of which ingest saw which transition may differ).
    s1, s2 = shared.stats(), sequential.stats()
    assert s1.events == s2.events == sum(len(c) for c in chunks)
    assert (s1.applied, s1.duplicates, s1.rejected) == (s2.applied, s2.duplicates, 0)
    assert state(shared) == state(sequential)
    assert shared.online_clients() == sequential.online_clients()
    # Every transition reached exactly one caller: per client, the flips add up to its status.
    net: Dict[str, int] = {}
    for tr in transitions:
        net[tr.client_id] = net.get(tr.client_id, 0) + (1 if tr.online else -1)
    assert {c for c, n in net.items() if n} == set(shared.online_clients())
    assert set(net.values()) <= {0, 1}
    assert (s1.went_online, s1.went_offline) == (sum(tr.online for tr in transitions),
                                                 sum(not tr.online for tr in transitions))


def test_batch_releases_the_gil() -> None:
    big = ("\n".join(fleet(400, 8)) + "\n").encode()
    e = StatusEngine()
    ticks = 0
    done = threading.Event()

    def batch() -> None:
        for _ in range(5):
            e.ingest_many(big)
        done.set()

    t = threading.Thread(target=batch)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    assert ticks > 0


# -- cross-language snapshots (CLI) ---------------------------------------------------------


def test_rust_snapshot_restores_in_python_and_back(tmp_path: Path, cli: List[str]) -> None:
    lines = fleet(30, 5)
    log_a, log_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log_a.write_text("\n".join(lines[:100]) + "\n")
    log_b.write_text("\n".join(lines[100:]) + "\n")
    rust_snap = tmp_path / "rust.bin"
    subprocess.run([*cli, "replay", str(log_a), "--takeover", "--save", str(rust_snap)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)

    py = StatusEngine(takeover=True)
    py.ingest_many(log_a.read_bytes())
    assert py.snapshot() == rust_snap.read_bytes()
    restored = StatusEngine.restore(rust_snap.read_bytes())
    assert restored.snapshot() == py.snapshot()

    restored.ingest_many(log_b.read_bytes())
    py_snap = tmp_path / "py.bin"
    py_snap.write_bytes(restored.snapshot())
    cid = json.loads(lines[0])["clientId"]
    out = subprocess.run([*cli, "replay", "--restore", str(py_snap), "--format", "json", "--client", cid],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    doc = json.loads(out.stdout)
    assert doc["stats"] == restored.stats().to_dict()
    assert doc["online"]["clients"] == restored.online_clients()
    assert doc["groups"] == [g.to_dict() for g in restored.groups()]
    client = restored.client(cid)
    assert client is not None and doc["clients"][cid] == client.to_dict()


def test_version() -> None:
    assert mqtt_status.__version__ == mqtt_status._native.__version__
    assert isinstance(mqtt_status.SNAPSHOT_VERSION, int)


# -- grace, observations, staleness (SPEC §9; the vectors cover the rules) -------------------


def test_grace_answers_and_bad_arguments_are_typed_and_counted() -> None:
    from mqtt_status import InvalidField, StaleClient

    e = StatusEngine(offline_grace_ms=1000)
    assert e.config["offline_grace_ms"] == 1000
    e.ingest(line(ev(A, "c1", "connect", 1)))
    assert e.ingest(line(ev(A, "c1", "tcpclean", 2))) is None  # pending, still reported online
    c = e.client(A)
    assert c is not None and c.pending_offline_since == 2 and c.to_dict()["pendingOfflineSince"] == 2
    assert e.stats().pending_offline == 1 and e.stats().to_dict()["pendingOffline"] == 1
    assert e.advance(1001) == []  # close 2 + grace 1000: due at 1002
    assert e.advance(1002) == [Transition(A, False, 2, "c1", "tcpclean")]
    back = e.ingest(line(ev(A, "c2", "connect", 5000)))
    assert back is not None and back.offline_since is None  # the offline was reported by advance
    assert e.stale_online(0, 6000, 5) == [StaleClient(A, 5000)]
    assert e.observe(A, False, 6000) is None  # offline by observation: pending, like a close
    assert e.stale_online(0, 7000, 5) == []  # exactly offline
    assert e.advance(7000) == [Transition(A, False, 6000, "", "observe")]
    before = e.stats()
    for bad in ((A, "yes", 1), (A, True, -1), (A, True, 1.5), ("", True, 1), (A, True, 2**53)):
        with pytest.raises(InvalidField):
            e.observe(*bad)
    after = e.stats()
    assert (after.events, after.rejected) == (before.events + 5, before.rejected + 5)
    with pytest.raises(InvalidField) as err:
        e.advance(-1)
    assert err.value.field == "now"
    with pytest.raises(InvalidField):
        e.stale_online(0, 1, -1)
    # No grace: the keys stay out of the dicts, the attributes are None.
    plain = StatusEngine()
    plain.ingest(line(ev(A, "c1", "connect", 1)))
    assert "pendingOffline" not in plain.stats().to_dict() and plain.stats().pending_offline is None
    assert plain.advance(10**6) == []

