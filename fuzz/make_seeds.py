#!/usr/bin/env python3
"""Builds the fuzz corpora (fuzz/corpus/<target>/) from the conformance vectors and the sample log.

Each seed carries the small header its target reads first (see the doc comment at the top of
each file in fuzz/fuzz_targets/): `00` is the default configuration. Files are named by a hash of
their content, so running this again adds nothing twice and never removes what the fuzzer found.

    python3 fuzz/make_seeds.py            # writes fuzz/corpus/{ingest_json,ingest_many,restore,laws,record,file_log,source_json}
"""

import glob
import hashlib
import json
import os
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
KNOWN_TAGS = {"connect": 4, "disconnect": 5, "tcpclean": 6}
# The selector byte of fuzz_targets/source_json.rs.
SOURCES = ["aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"]


def compact(item):
    """A vector's ingest value as the bytes the harnesses pass: objects as compact JSON."""
    if isinstance(item, str):
        return item.encode("utf-8", "surrogatepass")
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def config_header(config):
    """The config bytes of mqtt_status_fuzz::config for a vector's `config` (limits approximated)."""
    config = config or {}
    flags = int(bool(config.get("closeOnDisconnect"))) | int(bool(config.get("takeover"))) << 1
    if "tombstonesPerClient" in config or "maxIdLen" in config:
        tomb = min(int(config.get("tombstonesPerClient", 4)), 4)
        max_id = (int(config.get("maxIdLen", 48)) - 1) % 48
        return bytes([flags | 1 << 2, tomb, max_id])
    return bytes([flags])


def tag_selector(tag):
    if tag is None:
        return b"\x00"
    if tag in KNOWN_TAGS:
        return bytes([KNOWN_TAGS[tag]])
    raw = tag.encode("utf-8", "surrogatepass")[:15]
    return bytes([7, len(raw)]) + raw


class Corpus:
    def __init__(self):
        self.counts = {}

    def add(self, target, data):
        path = os.path.join(CORPUS, target)
        os.makedirs(path, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        full = os.path.join(path, name)
        if not os.path.exists(full):
            with open(full, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def walk(steps, config, out):
    """Yields (config, step) for every step, nested merge steps included."""
    for step in steps:
        out.append((config, step))
        if "merge" in step:
            walk(step["merge"].get("steps", []), step["merge"].get("config"), out)


def from_vectors(c):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "vectors", "*.json"))):
        with open(path, encoding="utf-8") as f:
            vector = json.load(f)
        steps = []
        walk(vector["steps"], vector.get("config"), steps)
        bodies = []
        for config, step in steps:
            head = config_header(config)
            if "ingest" in step or "ingestHex" in step:
                body = compact(step["ingest"]) if "ingest" in step else bytes.fromhex(step["ingestHex"])
                c.add("ingest_json", head + tag_selector(step.get("tag")) + body)
                source = (config or {}).get("source")
                if source in SOURCES and "tag" not in step:
                    c.add("source_json", bytes([SOURCES.index(source)]) + body)
                if "tag" not in step:
                    bodies.append(body)
            if "observe" in step:
                # An observe step is the observation line `ingest_json` and a batch read too.
                body = compact({"observe": step["observe"]})
                c.add("ingest_json", head + b"\x00" + body)
                bodies.append(body)
            if "ingestMany" in step:
                many = step["ingestMany"]
                jsonl = compact(many) if isinstance(many, str) else b"\n".join(compact(i) for i in many)
                c.add("ingest_many", head + b"\x80" + jsonl)
                for line in jsonl.split(b"\n"):
                    if line.strip():
                        c.add("ingest_json", head + b"\x00" + line)
            for key in ("snapshot", "restore"):
                if key in step:
                    snap = bytes.fromhex(step[key])
                    c.add("restore", b"\x00" + snap)
                    if len(snap) > 8:
                        c.add("restore", b"\x01" + snap[:-8])
        if bodies:
            # The vector's single ingests as one batch, and as the log of a mutated snapshot.
            jsonl = b"\n".join(bodies) + b"\n"
            c.add("ingest_many", config_header(vector.get("config")) + b"\x80" + jsonl)
            if len(jsonl) < 256:
                c.add("restore", b"\x02\x00" + bytes([len(jsonl)]) + jsonl)
                record_seeds(c, jsonl)


def from_sample(c):
    with open(os.path.join(ROOT, "examples", "data", "sample.jsonl"), "rb") as f:
        lines = f.read().split(b"\n")
    for i in range(0, len(lines), 40):
        chunk = b"\n".join(lines[i : i + 40]) + b"\n"
        c.add("ingest_many", b"\x00\x80" + chunk)
        c.add("ingest_many", b"\x03\x80" + chunk)  # closeOnDisconnect + takeover
    for line in lines[::25]:
        if line.strip():
            c.add("ingest_json", b"\x00\x00" + line)
            c.add("ingest_json", b"\x00\x08" + line)  # into an engine holding a few clients
    small = b"\n".join(lines[:3]) + b"\n"
    c.add("restore", b"\x02\x00" + bytes([min(len(small), 255)]) + small[:255])
    record_seeds(c, small[:255])
    file_log_seeds(c, lines[:12])


def record_seeds(c, jsonl):
    """`record` mode 2 (5: own id): the record of client `pick` of an engine fed `jsonl`, loaded
    into an empty engine (flags 00) and into one holding a few clients (flags 10)."""
    for flags in (0x00, 0x10):
        for pick in range(4):
            c.add("record", bytes([flags, 5, 0, len(jsonl)]) + jsonl + bytes([pick]))


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def log_header(gen):
    h = b"MQSTLOG1" + gen.to_bytes(8, "little")
    return h + zlib.crc32(h).to_bytes(4, "little")


def frame(body):
    length = len(body).to_bytes(4, "little")
    return length + zlib.crc32(length + body).to_bytes(4, "little") + body


def file_log_seeds(c, lines):
    """`file_log`: logs in the layout of store/src/file/codec.rs (the real ones, written by a file
    store, come from store/examples/fuzz_log_seeds.rs): whole images (mode 0), and frame bodies
    the target seals (mode 2), with and without garbage after them."""
    lines = [l for l in lines if l.strip()][:6]
    tag = lambda t: b"\x00" if t is None else varint(len(t) + 1) + t
    entries = [b"\x01" + tag(None) + varint(len(l)) + l for l in lines[:2]]
    entries.append(b"\x01" + tag(b"connect") + varint(len(lines[2])) + lines[2])
    many = b"\n".join(lines[3:5]) + b"\n"
    entries.append(b"\x02" + varint(len(many)) + many)
    entries.append(b"\x03" + varint(2) + tag(None) + varint(len(lines[5])) + lines[5] + tag(b"x") + varint(1) + b"{")
    entries.append(b"\x04" + varint(8) + b"MQSTATUS")
    image = log_header(0) + b"".join(frame(e) for e in entries)
    c.add("file_log", b"\x00" + image)
    c.add("file_log", b"\x00" + image[:-3])  # a torn tail
    c.add("file_log", b"\x00" + image + bytes(64))  # zeros after the last frame
    c.add("file_log", b"\x00" + log_header(3) + frame(b"".join(entries[:3])))  # one group commit
    small = [e for e in entries if len(e) < 256]
    sealed = bytes([0, len(small)]) + b"".join(bytes([len(e)]) + e for e in small)
    c.add("file_log", b"\x02" + sealed)
    c.add("file_log", b"\x02" + sealed + b"\x07\x00\x00\x00junk")
    c.add("file_log", b"\x01\x00" + frame(entries[0]))


def ev(client, kind, channel, time, ip=6):
    """One event of the laws target: client 0-4, kind 0-2, channel 0-5, time 0-255, ip 0-5 or 6
    (none); ip 7 makes it an observation (online iff kind 0)."""
    return bytes([client | kind << 3 | ip << 5, channel, time])


def laws_seeds(c):
    flash = [ev(0, 0, 0, 10, 0), ev(0, 0, 1, 20, 1), ev(0, 2, 0, 25), ev(0, 1, 1, 30), ev(0, 2, 1, 31)]
    mixed = [ev(i % 5, i % 3, (i * 7) % 6, (i * 37) % 64, i % 8) for i in range(40)]
    late = [ev(3, 0, ch, 3 * ch) for ch in range(6)] + [ev(3, 2, ch, 3 * ch + 2) for ch in range(6)]
    # Address bits 7 make an observation (online iff kind 0): an offline observation between a
    # connect and its close, an online one after a close, and the same again.
    observed = flash + [ev(0, 1, 0, 22, 7), ev(1, 0, 2, 5, 0), ev(1, 0, 0, 40, 7), ev(1, 2, 2, 30, 7)]
    for events in (flash, mixed, late, observed):
        tail = bytes(range(0, 256, 7))  # drives permutation, duplicates and the split
        for flags in (0x00, 0x01, 0x02, 0x03, 0x10, 0x12):
            c.add("laws", bytes([flags, len(events)]) + b"".join(events) + tail)
        c.add("laws", bytes([0x04, 1, 4, len(events)]) + b"".join(events) + tail)  # 1 tombstone


def main():
    c = Corpus()
    from_vectors(c)
    from_sample(c)
    laws_seeds(c)
    for target in ("ingest_json", "ingest_many", "restore", "laws", "record", "file_log", "source_json"):
        total = len(os.listdir(os.path.join(CORPUS, target)))
        print(f"{target}: {c.counts.get(target, 0)} new seeds, {total} in fuzz/corpus/{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
