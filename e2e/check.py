#!/usr/bin/env python3
"""Judges an end-to-end run (scripts/ci/e2e.sh): the shared store's answers and feed against the
generator's truth, the throughput runs, and that every connection stayed on 127.0.0.1.

    python3 e2e/check.py OUT_DIR

OUT_DIR holds truth.json, produced.json, fleet.jsonl; shared/ (phase 1: status.json and feed.json
from `mqtt-status status --store`, each instance's <name>.acked ids and <name>.json report,
<victim>.killed); reports/<run>.json (phase 2, one per consumer run); transitions/<run>.txt (the
printed transitions of our consumers), pids/<name>.pid and connections.txt (ss -tnp samples).
Writes OUT_DIR/summary.md; exits 1 on any failed check.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List

LOOPBACK = re.compile(r"^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$")
# Our consumers must be exact; the seed demo's wrong answers are reported, not judged.
OURS = ("node", "python")


def load(p: Path) -> Any:
    return json.loads(p.read_text(encoding="utf-8"))


def wrong_answers(truth: Dict[str, bool], answers: Dict[str, bool]) -> Dict[str, int]:
    falsely_online = sum(1 for c, v in truth.items() if not v and answers.get(c, False))
    falsely_offline = sum(1 for c, v in truth.items() if v and not answers.get(c, False))
    return {"wrong": falsely_online + falsely_offline, "falselyOnline": falsely_online,
            "falselyOffline": falsely_offline}


def feed_problems(label: str, entries: List[Dict[str, Any]], truth: Dict[str, bool]) -> List[str]:
    """Per client, a store feed's flips alternate and end at the truth (a client absent from the
    feed ends offline)."""
    problems: List[str] = []
    last: Dict[str, bool] = {}
    for t in entries:
        c = t["clientId"]
        if c in last and last[c] == t["online"]:
            problems.append(f"{label}feed: {c} flipped {'online' if t['online'] else 'offline'} twice in a row")
        last[c] = t["online"]
    for c, v in truth.items():
        if last.get(c, False) != v:
            problems.append(f"{label}feed: {c} ends {last.get(c)}, truth {v}")
    return problems


def check_store_feed(run: str, feed: Path, printed: Path, truth: Dict[str, bool]) -> List[str]:
    """A run's store feed alternates per client and ends at the truth; the printed flips are its
    entries, each printed once."""
    entries = [e["transition"] for e in load(feed)["entries"]]
    problems = feed_problems(f"{run}: ", entries, truth)
    want = sorted((t["clientId"], t["online"], t["time"], t["channelId"]) for t in entries)
    got = []
    for line in printed.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\S+) (\S+) (ONLINE|OFFLINE)\s+\(\w+ on (\S*)\)$", line)
        if m:
            got.append((m[2], m[3] == "ONLINE", parse_time(m[1]), m[4]))
    if sorted(got) != want:
        problems.append(f"{run}: {len(got)} printed flips are not the store feed's {len(want)} entries")
    return problems


def parse_time(text: str) -> int:
    """A printed time (ISO-8601 UTC with milliseconds, as both consumers print it) in epoch ms."""
    from datetime import datetime
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def check_shared(out: Path, truth: Dict[str, bool], produced: Dict[str, Any],
                 notes: List[str]) -> List[str]:
    """Phase 1: several instances of two groups on one store, two of them killed and restarted."""
    problems: List[str] = []
    shared = out / "shared"
    everything = produced["sent"]
    # Each group's instances together acknowledged every message (what "drained" meant).
    for lang in ("node", "python"):
        ids = set()
        instances = sorted(shared.glob(f"{lang}-*.acked"))
        for f in instances:
            mine = set(f.read_text(encoding="utf-8").split())
            if not mine:
                problems.append(f"{f.stem} acknowledged nothing: the group's queues were not split")
            ids |= mine
        if len(ids) != everything:
            problems.append(f"{lang} group acknowledged {len(ids)} distinct messages of {everything}")
        reports = [load(r) for r in sorted(shared.glob(f"{lang}-*.json"))]
        failed = sum(r["failedOnPurpose"] for r in reports)
        if not failed:
            problems.append(f"{lang} group failed no message on purpose: redelivery was not exercised")
        notes.append(f"shared {lang}: {len(instances)} instances acknowledged {len(ids)} distinct messages; "
              f"{sum(r['deliveries'] for r in reports)} deliveries in the reports of the survivors, "
              f"{failed} failed on purpose, {sum(r['redeliveries'] for r in reports)} redelivered")
    # Every kill happened mid-stream, and the victim's successor took over.
    kills = [load(k) for k in sorted(shared.glob("*.killed"))]
    if len(kills) < 1:
        problems.append("no instance was killed")
    for k in kills:
        if not 0 < k["groupAcked"] < k["all"]:
            problems.append(f"{k['victim']} was killed after its group acknowledged {k['groupAcked']} of "
                            f"{k['all']}: not mid-stream")
        notes.append(f"killed {k['victim']} (SIGKILL) after {k['acked']} acknowledged, its group at "
              f"{k['groupAcked']} of {k['all']}")
    # The store outage hit mid-stream, and instances of both groups answered "reconsume later".
    outage = shared / "outage.json"
    if not outage.exists():
        problems.append("no store outage was staged")
    else:
        o = load(outage)
        if not o["nodeAcked"] < o["all"]:
            problems.append(f"the store outage came after the Node group was done ({o})")
        marks = {"node": "store commit of", "python": "store error, will be redelivered"}
        failed = {}
        for lang, mark in marks.items():
            failed[lang] = sum(f.read_text(encoding="utf-8").count(mark)
                               for f in (out / "logs").glob(f"{lang}-*.err"))
            if not failed[lang]:
                problems.append(f"no {lang} instance saw the store outage (no '{mark}' in its log)")
        notes.append(f"store outage ({o['pausedMs']} ms, Node group at {o['nodeAcked']}, Python group at "
                     f"{o['pythonAcked']} of {o['all']}): {failed['node']} Node batches and "
                     f"{failed['python']} Python messages answered 'reconsume later'")
    # The store's answers (read by the CLI) equal the truth.
    status = load(shared / "status.json")
    online = set(status["online"]["clients"])
    if status["online"]["truncated"]:
        problems.append("status --limit 0 listed only some online clients")
    wrong = wrong_answers(truth, {c: True for c in online})
    stray = online - set(truth)
    if wrong["wrong"] or stray:
        problems.append(f"store: {wrong['wrong']} wrong answers ({wrong['falselyOnline']} falsely online, "
                        f"{wrong['falselyOffline']} falsely offline), {len(stray)} unknown clients online")
    # The feed: per client, flips alternate and end at the truth.
    entries = [e["transition"] for e in load(shared / "feed.json")["entries"]]
    problems += feed_problems("", entries, truth)
    # Every printed transition is a feed entry, and no entry was printed twice (a flip goes to the
    # one writer whose commit caused it). A killed instance may have died before printing its own.
    feed_keys: Dict[tuple, int] = {}
    for t in entries:
        k = (t["clientId"], t["online"], t["time"], t["channelId"])
        feed_keys[k] = feed_keys.get(k, 0) + 1
    printed: Dict[tuple, int] = {}
    for path in sorted((out / "transitions").glob("*.txt")):
        if not re.fullmatch(r"(node|python)-[a-z0-9]+", path.stem):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) < 6 or parts[2] not in ("ONLINE", "OFFLINE"):
                continue
            k = (parts[1], parts[2] == "ONLINE", parse_time(parts[0]), parts[5].rstrip(")"))
            printed[k] = printed.get(k, 0) + 1
    for k, n in printed.items():
        if n > feed_keys.get(k, 0):
            problems.append(f"printed {n}x but {feed_keys.get(k, 0)}x in the feed: {k}")
    unprinted = sum(feed_keys.values()) - sum(min(n, feed_keys.get(k, 0)) for k, n in printed.items())
    notes.append(f"store: {len(online)} online, {wrong['wrong']} wrong of {len(truth)}; feed: {len(entries)} flips, "
          f"{sum(printed.values())} printed by the instances ({unprinted} not printed: the victims')")
    return problems[:50]


def check_connections(out: Path) -> List[str]:
    problems: List[str] = []
    samples = (out / "connections.txt").read_text(encoding="utf-8").splitlines() \
        if (out / "connections.txt").exists() else []
    seen: Dict[str, int] = {}
    for line in samples:
        f = line.split()
        if len(f) < 6:
            continue
        local, peer = f[3], f[4]
        if not (LOOPBACK.match(local) and LOOPBACK.match(peer)):
            problems.append(f"non-loopback connection: {line}")
        for pid in re.findall(r"pid=(\d+),", line):
            seen[pid] = seen.get(pid, 0) + 1
    for pidfile in sorted((out / "pids").glob("*.pid")):
        pid = pidfile.read_text().strip()
        if not seen.get(pid):
            problems.append(f"no connection of {pidfile.stem} (pid {pid}) was sampled")
    print(f"connections: {len(samples)} samples of {len(seen)} processes, "
          f"{sum(1 for p in problems if p.startswith('non-loopback'))} not on 127.0.0.1")
    return problems


def main() -> int:
    out = Path(sys.argv[1])
    truth: Dict[str, bool] = load(out / "truth.json")["status"]
    produced = load(out / "produced.json")
    problems: List[str] = []
    rows = []
    for path in sorted((out / "reports").glob("*.json")):
        r = load(path)
        run = path.stem
        row: Dict[str, Any] = {"run": run, **{k: r.get(k) for k in (
            "consumer", "expected", "consumed", "deliveries", "redeliveries", "failedOnPurpose",
            "rate", "drainSeconds")}}
        if r["consumed"] != r["expected"] or not r["expected"]:
            problems.append(f"{run}: consumed {r['consumed']} of {r['expected']} messages")
        if r.get("answers") is not None:
            row.update(wrong_answers(truth, r["answers"]))
            if r["consumer"] in OURS and row["wrong"]:
                problems.append(f"{run}: {row['wrong']} wrong answers ({row['falselyOnline']} "
                                f"falsely online, {row['falselyOffline']} falsely offline)")
        if r.get("failedOnPurpose"):
            # Every message failed on purpose must have come back at least once.
            if r["redeliveries"] < r["failedOnPurpose"]:
                problems.append(f"{run}: {r['failedOnPurpose']} failed on purpose but only "
                                f"{r['redeliveries']} redelivered")
        # Node commits several batches at once (--in-flight), and Python's listener threads print
        # concurrently, so printed flips are not in commit order per client: the store's own feed
        # (dumped after each Node run) is checked, and every printed flip must be one of its
        # entries, printed once.
        printed = out / "transitions" / f"{run}.txt"
        store_feed = out / "feeds" / f"{run}.json"
        if r["consumer"] == "node" and printed.exists():
            if not store_feed.exists():
                problems.append(f"{run}: no dump of the store's feed")
            else:
                problems.extend(check_store_feed(run, store_feed, printed, truth)[:20])
        rows.append(row)
    # A run "node.2" is the second repetition of "node"; the table keeps each one's best rate.
    for row in rows:
        row["base"] = row["run"].split(".")[0]
    order = ["bare-java", "seed-demo", "bare-node-1", "node-1", "bare-node", "node", "bare-python", "python"]
    bases = {row["base"] for row in rows}
    for needed in order:
        if needed not in bases:
            problems.append(f"missing report of run {needed}")
    notes: List[str] = []
    problems.extend(check_shared(out, truth, produced, notes))
    problems.extend(check_connections(out))

    groups: Dict[str, List[Dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["base"], []).append(row)
    best = {base: max(r["rate"] or 0 for r in rs) for base, rs in groups.items()}
    lines = [
        f"Stream: {produced['sent']} messages {produced['perTag']} for {len(truth)} clients "
        f"({sum(truth.values())} online at the end), produced in {produced['seconds']} s.",
        "",
        "| run | consumer | messages | deliveries | runs | msg/s (first 95 %, best; all) | vs bare | wrong answers |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    bare_of = {"seed-demo": "bare-java", "node": "bare-node", "node-1": "bare-node-1", "python": "bare-python"}
    for base in sorted(groups, key=lambda b: order.index(b) if b in order else len(order)):
        rs = groups[base]
        first = rs[0]
        ref = best.get(bare_of.get(base, ""), 0)
        ratio = f"{best[base] / ref:.2f}x" if ref and best[base] else "—"
        wrong = "—" if "wrong" not in first else ", ".join(
            f"{r['wrong']} ({r['falselyOnline']} online, {r['falselyOffline']} offline)" for r in rs)
        rates = ", ".join(str(r["rate"]) for r in rs)
        lines.append(f"| {base} | {first['consumer']} | {first['consumed']} | "
                     f"{'/'.join(str(r['deliveries']) for r in rs)} | {len(rs)} | "
                     f"{best[base]} ({rates}) | {ratio} | {wrong} |")
    for r in groups.get("seed-demo", []):
        if "wrong" in r:
            lines.append("")
            lines.append(f"Seed demo ({r['run']}): {r['wrong']} of {len(truth)} clients wrong "
                         f"({r['falselyOnline']} falsely online, {r['falselyOffline']} falsely offline).")
    lines += ["", "Several instances on one store (phase 1):", ""] + [f"- {n}" for n in notes]
    summary = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    if problems:
        print(f"e2e: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems[:50]:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("e2e: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
