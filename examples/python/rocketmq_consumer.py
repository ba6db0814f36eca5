#!/usr/bin/env python3
"""A RocketMQ consumer of ApsaraMQ for MQTT status notifications, on rocketmq-python-client,
feeding the shared status store (Redis): run as many instances in one consumer group as you
like, restart them at will; they all answer from one state.

rocketmq-python-client speaks gRPC to a RocketMQ 5.x proxy (the remoting client for Python
needs a C++ library that is not on PyPI). Each message (tag = event type, body = the
notification JSON) goes to the store; the listener answers SUCCESS (acknowledge) only after the
store committed it, FAILURE (redeliver later) when the store is unavailable or anything else
went wrong, SUCCESS for a malformed notification (logged: no redelivery can fix it), and every
online/offline transition of the shared status is printed by the instance that caused it. The
push consumer is used, not the SimpleConsumer: messages a SimpleConsumer received but did not
acknowledge are not redelivered to it (rocketmq-clients#1344).

    pip install ./bindings/python -r examples/python/requirements-rocketmq.txt
    python examples/python/rocketmq_consumer.py --store redis://127.0.0.1:6379 \
        --endpoint 127.0.0.1:8081 --topic GID_meter_MQTT

Test options (scripts/ci/e2e.sh): ``--fail-rate 0.01`` fails that share of first deliveries
(chosen by a hash of the message id, the same messages in every run) so the broker redelivers
them; ``--bare`` acknowledges without tracking status (the throughput baseline);
``--expect N --report FILE`` exits after N distinct messages with a JSON report (without
``--expect``, SIGTERM writes it); ``--acked FILE`` appends each acknowledged message's id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import signal
import sys
import threading
import time
from typing import IO, Any, Dict, Optional

import mqtt_status
from rocketmq import (ClientConfiguration, ConsumeResult, Credentials, FilterExpression,
                      Message, MessageListener, PushConsumer)

# Errors of the store itself, not of the message: the message must come back later.
STORE_ERRORS = (mqtt_status.StoreUnavailable, mqtt_status.StoreLocked, mqtt_status.ConfigMismatch,
                mqtt_status.InvalidSnapshot)


def iso_time(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC (as the Node example prints them)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Tally:
    """Distinct messages acknowledged, deliveries, and the time to 95 % of the expected ones."""

    def __init__(self, expected: int, acked_log: Optional[IO[str]]) -> None:
        self.expected = expected
        self.acked_log = acked_log
        self.done: set[str] = set()
        self.deliveries = 0
        self.redeliveries = 0
        self.failed_on_purpose = 0
        self.rejected = 0
        self.first = 0.0
        self.at95 = 0.0
        self.last = 0.0
        self.complete = threading.Event()
        self.lock = threading.Lock()

    def delivered(self, attempt: int) -> None:
        with self.lock:
            if self.deliveries == 0:
                self.first = time.perf_counter()
            self.deliveries += 1
            if attempt > 1:
                self.redeliveries += 1

    def acked(self, message_id: str) -> None:
        with self.lock:
            if self.acked_log is not None:
                # Written before the listener returns, so an instance killed after this write
                # may have acknowledged the id or not (then it comes back), never the reverse.
                self.acked_log.write(message_id + "\n")
                self.acked_log.flush()
            if message_id in self.done:
                return
            self.done.add(message_id)
            n = len(self.done)
            if not self.at95 and self.expected and n >= math.ceil(self.expected * 0.95):
                self.at95 = time.perf_counter()
            if self.expected and n >= self.expected and not self.last:
                self.last = time.perf_counter()
                self.complete.set()


class StatusListener(MessageListener):  # type: ignore[misc]
    """Feeds each message to the store; acknowledges only what the store committed."""

    def __init__(self, store: Optional[mqtt_status.StatusStore], tally: Tally, fail_rate: float,
                 quiet: bool) -> None:
        # One handle for all listener threads: it is thread-safe, and concurrent ingest calls
        # share commits (group commit), so N threads cost about one round trip, not N.
        self.store = store
        self.print_lock = threading.Lock()
        self.tally = tally
        self.fail_rate = fail_rate
        self.quiet = quiet

    def fails_on_purpose(self, message: Message) -> bool:
        if self.fail_rate <= 0 or message.delivery_attempt > 1:
            return False
        h = int.from_bytes(hashlib.sha1(message.message_id.encode()).digest()[:4], "big")
        return h / 2**32 < self.fail_rate

    def consume(self, message: Message) -> ConsumeResult:
        try:
            self.tally.delivered(message.delivery_attempt)
            if self.fails_on_purpose(message):
                with self.tally.lock:
                    self.tally.failed_on_purpose += 1
                return ConsumeResult.FAILURE
            if self.store is not None:
                try:
                    # Returns once the store committed the event (the GIL is released meanwhile).
                    t = self.store.ingest(message.body, message.tag)
                except STORE_ERRORS as e:
                    print(f"store error, will be redelivered: {e.code}: {e}", file=sys.stderr)
                    return ConsumeResult.FAILURE
                except mqtt_status.StatusError as e:
                    # A malformed notification never becomes valid: acknowledge it, log it.
                    with self.tally.lock:
                        self.tally.rejected += 1
                    print(f"skipped message {message.message_id}: {e.code}: {e}", file=sys.stderr)
                    t = None
                if t is not None and not self.quiet:
                    state = "ONLINE " if t.online else "OFFLINE"
                    with self.print_lock:
                        sys.stdout.write(f"{iso_time(t.time)} {t.client_id} {state} "
                                         f"({t.event_type} on {t.channel_id})\n")
            self.tally.acked(message.message_id)
            return ConsumeResult.SUCCESS
        except Exception as e:  # anything unexpected: let the broker redeliver it later
            print(f"consume failed, will be redelivered: {e!r}", file=sys.stderr)
            return ConsumeResult.FAILURE


def report(args: argparse.Namespace, tally: Tally, store: Optional[mqtt_status.StatusStore]) -> Dict[str, Any]:
    s95: Optional[float] = tally.at95 - tally.first if tally.at95 else None
    answers = None
    stats = None
    if store is not None:
        # Every online client of the shared state; a client not listed is offline.
        answers = {c: True for c in store.online_clients()}
        stats = store.stats().to_dict()
    return {
        "consumer": "bare-python" if args.bare else "python",
        "group": args.group,
        "expected": tally.expected,
        "consumed": len(tally.done),
        "deliveries": tally.deliveries,
        "redeliveries": tally.redeliveries,
        "failedOnPurpose": tally.failed_on_purpose,
        "rejected": tally.rejected,
        "seconds95": s95,
        "rate": round(math.ceil(tally.expected * 0.95) / s95) if s95 else 0,
        "drainSeconds": tally.last - tally.first if tally.last else None,
        "answers": answers,
        "stats": stats,
    }


def open_store(url: str) -> mqtt_status.StatusStore:
    """Opens the store, waiting for Redis (an instance started during an outage must not die)."""
    delay = 0.25
    while True:
        try:
            return mqtt_status.StatusStore.open(url)
        except mqtt_status.StoreUnavailable as e:
            print(f"store unavailable ({e}); opening again in {delay:g} s", file=sys.stderr)
            time.sleep(delay)
            delay = min(2 * delay, 5.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--store", default="redis://127.0.0.1:6379", help="status store URL")
    ap.add_argument("--endpoint", default="127.0.0.1:8081", help="RocketMQ 5.x proxy (gRPC)")
    ap.add_argument("--topic", default="GID_meter_MQTT")
    ap.add_argument("--group", default="GID_mqtt_status_python")
    ap.add_argument("--tags", default="connect||disconnect||tcpclean")
    ap.add_argument("--threads", type=int, default=8, help="consumption threads")
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--bare", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="do not print transitions")
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--report")
    ap.add_argument("--acked")
    ap.add_argument("--timeout", type=float, default=0)
    args = ap.parse_args()

    store = None if args.bare else open_store(args.store)
    acked_log = open(args.acked, "a", encoding="utf-8") if args.acked else None
    tally = Tally(args.expect, acked_log)
    listener = StatusListener(store, tally, args.fail_rate, args.quiet)
    config = ClientConfiguration(args.endpoint, Credentials())
    consumer = PushConsumer(config, args.group, listener, {args.topic: FilterExpression(args.tags)},
                            consumption_thread_count=args.threads)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    consumer.startup()
    mode = "bare (acknowledge only)" if args.bare else f"mqtt-status, store {args.store}"
    print(f"rocketmq consumer: {mode}; group {args.group}; {args.topic} {args.tags}", file=sys.stderr)
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else math.inf
    while not stop.is_set() and not tally.complete.is_set() and time.monotonic() < deadline:
        stop.wait(0.2)
        if not args.quiet:
            sys.stdout.flush()
    sys.stdout.flush()
    r = report(args, tally, store)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(json.dumps(r) + "\n")
    print(f"{r['consumer']}: {r['consumed']} of {r['expected'] or '?'} messages, {r['deliveries']} deliveries "
          f"({r['redeliveries']} redelivered, {r['failedOnPurpose']} failed on purpose), "
          f"{r['rate']} msg/s (first 95 %)", file=sys.stderr)
    # Give the last acknowledgements a moment to reach the proxy before shutting down.
    time.sleep(0.5)
    consumer.shutdown()
    return 0 if not args.expect or len(tally.done) >= args.expect else 2


if __name__ == "__main__":
    sys.exit(main())
