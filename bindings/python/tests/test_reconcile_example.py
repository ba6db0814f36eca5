"""examples/python/reconcile.py: the reconciliation loop finds every lost tcpclean with the
(mocked) query API, within the rate limit, and ends in agreement with the simulation's truth."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "python" / "reconcile.py"


def run(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, check=True,
                          timeout=60)


def test_the_loop_repairs_every_lost_tcpclean_within_the_budget() -> None:
    out = run("--devices", "120", "--minutes", "60", "--seed", "3", "--budget", "15").stdout.splitlines()
    summary = out[-1]
    assert summary.endswith("engine and truth disagree on 0 devices"), summary
    lost = int(re.findall(r"(\d+) tcpclean notifications lost", summary)[0])
    repaired = [line for line in out if "offline (query API answer)" in line]
    # Losses happened and each one was repaired by an observation (a device may lose twice).
    assert lost > 0 and len(repaired) >= 1
    assert len(repaired) <= lost
    calls = int(re.findall(r"(\d+) query API calls", summary)[0])
    assert 0 < calls <= 15 * 60


def test_without_the_loop_the_losses_stay() -> None:
    """The control: with no query budget nothing is asked, and the lost tcpcleans stay wrong."""
    out = run("--devices", "120", "--minutes", "60", "--seed", "3", "--budget", "0").stdout.splitlines()
    assert not out[-1].endswith("disagree on 0 devices"), out[-1]
    assert " 0 query API calls" in out[-1]
