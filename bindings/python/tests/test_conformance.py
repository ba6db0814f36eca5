"""Replays every language-neutral case of tests/vectors/*.json (see its README)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import mqtt_status
from mqtt_status import StatusEngine, StatusError

VECTORS = Path(os.environ.get("MQTT_STATUS_VECTORS") or Path(__file__).resolve().parents[3] / "tests" / "vectors")
CASES = sorted(VECTORS.glob("*.json"))
OPTIONS = {
    "closeOnDisconnect": "close_on_disconnect",
    "takeover": "takeover",
    "tombstonesPerClient": "tombstones_per_client",
    "maxIdLen": "max_id_len",
    "maxOpenChannels": "max_open_channels",
    "source": "source",
    "offlineGraceMs": "offline_grace_ms",
}


def engine_for(config: Optional[Dict[str, Any]]) -> StatusEngine:
    return StatusEngine(**{OPTIONS[k]: v for k, v in (config or {}).items()})


def plain(value: Any) -> Any:
    """An answer as the JSON API shows it (camelCase dicts, lists, null)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def query(engine: StatusEngine, name: str, args: Dict[str, Any]) -> Any:
    if name == "isOnline":
        return engine.is_online(args["clientId"])
    if name == "client":
        return plain(engine.client(args["clientId"]))
    if name == "onlineClients":
        return engine.online_clients(args.get("group"), args.get("after"), args.get("limit"))
    if name == "countOnline":
        return engine.count_online(args.get("group"))
    if name == "groups":
        return plain(engine.groups())
    if name == "stats":
        return plain(engine.stats())
    if name == "staleOnline":
        return plain(engine.stale_online(args["olderThanMs"], args["nowMs"], args["limit"]))
    raise AssertionError(f"unknown query {name}")


def state(engine: StatusEngine) -> bytes:
    """The state without this instance's ingest counters: a fresh engine merged with this one."""
    fresh = StatusEngine(**engine.config)
    fresh.merge(engine)
    return fresh.snapshot()


def assert_unchanged(engine: StatusEngine, before: bytes, stats_before: Dict[str, Any], step: Dict[str, Any],
                     where: str) -> None:
    """A failed step changes nothing. A failed ingest is still counted (`events`, `rejected`,
    which the snapshot keeps), so there the stats and the state are compared instead (an
    observation is an input like an ingest)."""
    if "ingest" in step or "ingestHex" in step or "observe" in step:
        expect = dict(stats_before, events=stats_before["events"] + 1, rejected=stats_before["rejected"] + 1)
        assert engine.stats().to_dict() == expect, f"{where}: a failed ingest changed the stats"
        assert state(engine) == state(StatusEngine.restore(before)), f"{where}: a failed ingest changed the state"
    else:
        assert engine.snapshot() == before, f"{where}: a failed step changed the engine"


def run(engine: StatusEngine, steps: List[Dict[str, Any]]) -> StatusEngine:
    for i, step in enumerate(steps):
        where = f"step {i}: {json.dumps(step)[:200]}"
        before = engine.snapshot()
        stats_before = engine.stats().to_dict()
        try:
            if "ingest" in step or "ingestHex" in step:
                body = bytes.fromhex(step["ingestHex"]) if "ingestHex" in step else step["ingest"]
                got: Any = plain(engine.ingest(body, step.get("tag")))
            elif "ingestMany" in step:
                data = step["ingestMany"]
                report = engine.ingest_many(data if isinstance(data, str) else list(data))
                got = report.to_dict()
                for e in got["errors"]:
                    del e["message"]
                if "expect" in step:
                    for e in step["expect"].get("errors", []):
                        e.pop("message", None)
            elif "advance" in step:
                got = plain(engine.advance(step["advance"]))
            elif "observe" in step:
                o = step["observe"]
                got = plain(engine.observe(o["clientId"], o["online"], o["time"]))
            elif "query" in step:
                got = query(engine, step["query"], step.get("args") or {})
            elif "snapshotRestore" in step:
                engine = StatusEngine.restore(before)
                assert engine.snapshot() == before, where
                continue
            elif "snapshot" in step:
                assert before.hex() == step["snapshot"].lower(), where
                continue
            elif "restore" in step:
                engine = StatusEngine.restore(bytes.fromhex(step["restore"]))
                got = None
            elif "record" in step:
                record = engine.client_record(step["record"]["clientId"])
                assert (None if record is None else record.hex()) == step["record"]["hex"], where
                continue
            elif "loadRecord" in step:
                engine.load_record(step["loadRecord"]["clientId"], bytes.fromhex(step["loadRecord"]["hex"]))
                got = None
            elif "merge" in step:
                other = run(engine_for(step["merge"].get("config")), step["merge"]["steps"])
                engine.merge(other)
                got = None
            else:
                raise AssertionError(f"unknown operation in {where}")
        except StatusError as e:
            assert "expectError" in step, f"{where}: unexpected {type(e).__name__} {e.code} {e.field}: {e}"
            assert {"code": e.code, "field": e.field} == step["expectError"], where
            assert_unchanged(engine, before, stats_before, step, where)
            continue
        assert "expectError" not in step, f"{where}: expected {step['expectError']}, got {got!r}"
        if "expect" in step:
            assert got == step["expect"], where
    return engine


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_vector(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    run(engine_for(case.get("config")), case["steps"])


def test_vectors_exist() -> None:
    assert CASES, f"no conformance vectors in {VECTORS}"
    assert VECTORS / "record-golden.json" in CASES, "the per-client record vectors are replayed here too"
    assert mqtt_status.__version__
