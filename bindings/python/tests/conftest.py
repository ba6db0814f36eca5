from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli() -> List[str]:
    """The mqtt-status CLI (built once, release), as an argv prefix."""
    if os.environ.get("MQTT_STATUS_CLI"):
        return [os.environ["MQTT_STATUS_CLI"]]
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is needed for the cross-language snapshot tests")
    subprocess.run([cargo, "build", "-q", "--release", "-p", "mqtt-status-cli"], cwd=ROOT, check=True)
    return [cargo, "run", "-q", "--release", "-p", "mqtt-status-cli", "--"]
