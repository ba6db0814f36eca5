"""Reconciliation loop: verify the engine's stale "online" clients with the broker's query API.

Notifications get lost (a listener that throws makes the cloud SDK drop the message; a
``tcpclean`` that never arrives leaves a device "online" forever). The broker's synchronous
``QuerySessionByClientId`` API is the authority, but it is rate-limited, so never ask it about
everyone. Every minute this loop asks the engine which online clients have shown no sign of life
for a while (``stale_online``), asks the API about those few (at most ``--budget`` a minute),
and feeds each answer back with ``observe``: an offline answer closes the channels the lost
``tcpclean`` left open (a transition, ``event_type`` ``"observe"``); an online answer is a sign
of life, so the client drops out of the next minutes' lists.

Everything here is simulated so that the example runs anywhere in a second, deterministically:

- the clock (``now`` advances a minute per round; the engine reads no clock anyway);
- the fleet and its notifications (a few of which are lost on purpose);
- **the query API: ``MockQuerySessionClient`` is a MOCK**, not the Alibaba Cloud SDK. In
  production, replace it with a client of the ApsaraMQ for MQTT OpenAPI
  ``QuerySessionByClientId`` (it returns ``OnlineStatus``), and the simulated clock with
  ``time.time() * 1000``.

Usage: ``python examples/python/reconcile.py [--devices N] [--minutes M] [--seed S] [--budget B]``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from mqtt_status import StatusEngine, Transition

MINUTE = 60_000
START = 1_714_521_600_000  # 2024-05-01T00:00:00Z
STALE_AFTER = 5 * MINUTE  # ask about an online client with no sign of life for 5 minutes
QUIET = 10  # the last minutes have no traffic: the loop catches up with the losses


class MockQuerySessionClient:
    """MOCK of the broker's ``QuerySessionByClientId`` (NOT a real API client).

    It answers from the simulation's ground truth and enforces a per-minute call budget, as the
    real API's rate limit would (a real client would raise on throttling; this one refuses)."""

    def __init__(self, truth: Dict[str, bool], budget_per_minute: int) -> None:
        self._truth = truth
        self._budget = budget_per_minute
        self._minute = -1
        self._used = 0
        self.calls = 0

    def query_session_by_client_id(self, client_id: str, now_ms: int) -> bool:
        """Whether ``client_id`` has a live session now (the real API's ``OnlineStatus``)."""
        minute = now_ms // MINUTE
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used >= self._budget:
            raise RuntimeError("MOCK QuerySessionByClientId: rate limit exceeded")
        self._used += 1
        self.calls += 1
        return self._truth.get(client_id, False)


@dataclass
class Fleet:
    """The simulated devices: what they really do, and the notifications that reach us."""

    rng: random.Random
    devices: List[str]
    truth: Dict[str, bool] = field(default_factory=dict)
    channel: Dict[str, str] = field(default_factory=dict)
    lost: Set[str] = field(default_factory=set)
    sessions: int = 0

    def minute(self, now: int, loss: float) -> List[str]:
        """This minute's notifications (JSON lines); each ``tcpclean`` is lost with ``loss``."""
        lines = []
        for device in self.devices:
            if self.rng.random() >= 0.15:  # most devices do nothing in a given minute
                continue
            time = now + self.rng.randrange(MINUTE)
            if self.truth.get(device):
                self.truth[device] = False
                event = {"clientId": device, "channelId": self.channel[device], "eventType": "tcpclean", "time": time}
                if self.rng.random() < loss:
                    self.lost.add(device)  # the notification never reaches the engine
                    continue
            else:
                self.sessions += 1
                self.truth[device] = True
                self.channel[device] = f"ch{self.sessions:06d}"
                event = {"clientId": device, "channelId": self.channel[device], "eventType": "connect", "time": time}
            lines.append(json.dumps(event))
        return lines


def describe(t: Transition) -> str:
    cause = "query API answer" if t.event_type == "observe" else f"{t.event_type} on {t.channel_id}"
    return f"{t.client_id} {'online' if t.online else 'offline'} ({cause})"


def reconcile(devices: int, minutes: int, seed: int, budget: int, loss: float, out: Optional[List[str]] = None) -> int:
    """Runs the simulation; returns the number of devices the engine and the truth disagree on."""
    rng = random.Random(seed)
    fleet = Fleet(rng, [f"GID_meter@@@dev{i:04d}" for i in range(devices)])
    api = MockQuerySessionClient(fleet.truth, budget)
    engine = StatusEngine()
    log = out if out is not None else []
    minutes = max(minutes, QUIET + 1)
    for m in range(minutes):
        now = START + m * MINUTE
        if m < minutes - QUIET:
            engine.ingest_many("\n".join(fleet.minute(now, loss)))
        end = now + MINUTE  # the simulated clock at the end of this minute
        # The few online clients worth a (rate-limited) question, oldest sign of life first.
        for stale in engine.stale_online(STALE_AFTER, end, budget):
            online = api.query_session_by_client_id(stale.client_id, end)
            flip = engine.observe(stale.client_id, online, end)
            if flip is not None:
                log.append(f"minute {m:3d}: {describe(flip)}")
    wrong = sum(engine.is_online(d) != fleet.truth.get(d, False) for d in fleet.devices)
    log.append(
        f"{minutes} minutes, {devices} devices: {len(fleet.lost)} tcpclean notifications lost, "
        f"{api.calls} query API calls (at most {budget} a minute), "
        f"engine and truth disagree on {wrong} devices"
    )
    return wrong


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=20, help="query API calls a minute (MOCK rate limit)")
    parser.add_argument("--loss", type=float, default=0.1, help="fraction of tcpclean notifications lost")
    args = parser.parse_args(argv)
    log: List[str] = []
    reconcile(args.devices, args.minutes, args.seed, args.budget, args.loss, log)
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
