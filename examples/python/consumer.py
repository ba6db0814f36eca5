#!/usr/bin/env python3
"""A presence consumer: feeds notification lines into an engine and prints transitions.

Reads JSONL (one body, or one ``{"tag": ..., "body": ...}`` RocketMQ envelope, per line) from
the files given, or from standard input. The engine's snapshot is restored on start and saved
on exit, so a restarted consumer carries on where it stopped: redeliveries of events it had
already seen change nothing.

    python consumer.py --state state.bin events.jsonl
    tail -F events.jsonl | python consumer.py --state state.bin

Here the snapshot lives in a file. In production keep it where your consumers can share it:
a Redis key (``r.set("mqtt-status:snapshot", engine.snapshot())`` /
``StatusEngine.restore(r.get(...))``), or a BLOB column in your database, written after each
batch of committed offsets. Snapshots are a few bytes per client and identical across
languages, so a Rust or Node process can pick them up too.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, Iterator

import mqtt_status


def load(path: Path) -> mqtt_status.StatusEngine:
    if path.exists():
        engine = mqtt_status.StatusEngine.restore(path.read_bytes())
        print(f"# restored {engine.stats().clients} clients from {path}", file=sys.stderr)
        return engine
    return mqtt_status.StatusEngine()


def save(engine: mqtt_status.StatusEngine, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(engine.snapshot())
    os.replace(tmp, path)  # atomic: a crash never leaves half a snapshot


def lines(files: list[str]) -> Iterator[tuple[str, int, str]]:
    sources: list[tuple[str, IO[str]]] = []
    if not files:
        sources.append(("<stdin>", sys.stdin))
    for name in files:
        sources.append((name, sys.stdin if name == "-" else open(name, encoding="utf-8")))
    for name, f in sources:
        for number, text in enumerate(f, 1):
            yield name, number, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="JSONL files (default: standard input)")
    ap.add_argument("--state", default="mqtt-status.snapshot", help="snapshot file (restored, then saved)")
    args = ap.parse_args()

    state = Path(args.state)
    engine = load(state)
    try:
        for name, number, text in lines(args.files):
            if not text.strip():
                continue
            try:
                t = engine.ingest(text)
            except mqtt_status.InvalidNotification as e:
                print(f"{name}:{number}: {e.code} {e.field or '-'}: {e}", file=sys.stderr)
                continue
            if t is not None:
                state_word = "online" if t.online else "offline"
                print(f"{t.time} {t.client_id} {state_word} ({t.event_type} on {t.channel_id})", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        save(engine, state)
        s = engine.stats()
        print(f"# {s.online} of {s.clients} clients online; snapshot saved to {state}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
