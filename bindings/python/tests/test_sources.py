"""Generated traffic in every broker format (tests/sources/, written by ``mqtt-status generate
--source X``: redeliveries, reordering, malformed lines) replays to its truth: 0 wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Literal, Tuple

import pytest

from mqtt_status import StatusEngine, StatusError

SOURCES = Path(__file__).resolve().parents[3] / "tests" / "sources"
Format = Literal["aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"]
FORMATS: List[Format] = ["aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"]


def load(source: str) -> Tuple[str, Dict[str, Any]]:
    text = (SOURCES / f"{source}.jsonl").read_text()
    truth = json.loads((SOURCES / f"{source}.truth.json").read_text())
    return text, truth


@pytest.mark.parametrize("source", FORMATS)
def test_batch_replay_matches_truth(source: Format) -> None:
    text, truth = load(source)
    assert truth["duplicates"] > 0 and truth["invalid"] > 0
    engine = StatusEngine(source=source)
    report = engine.ingest_many(text)
    expect = sorted(c for c, online in truth["status"].items() if online)
    assert engine.online_clients() == expect
    assert report.applied == truth["events"]
    assert report.duplicates + report.late == truth["duplicates"]
    assert report.rejected == truth["invalid"]
    # Every client the truth knows is known, with the truth's status.
    for client, online in truth["status"].items():
        assert engine.is_online(client) is online, client


@pytest.mark.parametrize("source", FORMATS)
def test_line_by_line_agrees_and_the_option_matters(source: Format) -> None:
    text, truth = load(source)
    engine, rejected = StatusEngine(source=source), 0
    for line in text.splitlines():
        try:
            engine.ingest(line)
        except StatusError:
            rejected += 1
    assert rejected == truth["invalid"]
    assert engine.count_online() == truth["onlineCount"]
    if source != "auto":
        # Read as ApsaraMQ lines (the default source), no vendor line is a notification.
        assert StatusEngine().ingest_many(text).applied == 0
