"""examples/python/consumer.py: prints transitions, and resumes from its snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

CONSUMER = ROOT / "examples" / "python" / "consumer.py"


def ev(client: str, channel: str, kind: str, time: int) -> str:
    return json.dumps({"clientId": client, "channelId": channel, "eventType": kind, "time": time})


def run(state: Path, stdin: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, str(CONSUMER), "--state", str(state)], input=stdin,
                          capture_output=True, text=True, check=True, timeout=60)


def test_consumer_resumes_from_its_snapshot(tmp_path: Path) -> None:
    state = tmp_path / "state.bin"
    first = run(state, "\n".join([ev("GID_a@@@d1", "c1", "connect", 1000), "garbage",
                                  ev("GID_a@@@d2", "c2", "connect", 1001)]) + "\n")
    assert first.stdout.splitlines() == ["1000 GID_a@@@d1 online (connect on c1)",
                                         "1001 GID_a@@@d2 online (connect on c2)"]
    assert "invalid_json" in first.stderr
    assert state.exists()

    # Second run: a redelivery of c1's connect changes nothing; d2 goes offline.
    second = run(state, "\n".join([ev("GID_a@@@d1", "c1", "connect", 1000),
                                   json.dumps({"tag": "tcpclean", "body": {"clientId": "GID_a@@@d2",
                                                                          "channelId": "c2", "time": 2000}})]))
    assert "restored 2 clients" in second.stderr
    assert second.stdout.splitlines() == ["2000 GID_a@@@d2 offline (tcpclean on c2)"]
