"""Folds the JSON outputs of bench/run.sh (rust.json, python.json, node-*.json, fit.json) into
one Markdown table. Ratios are speeds (higher is better) between figures of the same run."""
import argparse
import json
import os


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def goal(ok, text):
    return f"{text}: {'met' if ok else 'MISSED'}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    rust = load(a.dir, "rust.json")
    t, q, m = rust["throughput"], rust["queries"], rust["memory"]
    py = load(a.dir, "python.json")
    nn, nw = load(a.dir, "node-native.json"), load(a.dir, "node-wasm.json")
    fit = load(a.dir, "fit.json")
    rows = []

    def row(sec, what, value, ratio="", g=""):
        rows.append((sec, what, value, ratio, g))

    fl, one, many, base = t["floor_ns"], t["ingest_json_ns"], t["ingest_many_ns"], t["baseline_ns"]
    s = f"ingest ({t['events']:,} events, {t['bytes'] / 1e6:.1f} MB, {t['clients']:,} clients)"
    row(s, "parse floor: serde_json, each line as IgnoredAny", f"{fl:.0f} ns/event ({t['floor_mb_s']:.0f} MB/s)", "1.00× floor")
    ep = t["engine_parse_ns"]
    row(s, "engine's parser alone (`with_notification`, no state)", f"{ep:.0f} ns/event", f"{fl / ep:.2f}× floor")
    row(s, "Rust `ingest_json`, line by line", f"{one:.0f} ns/event", f"{fl / one:.2f}× floor")
    row(s, "Rust `ingest_many`, whole JSONL", f"{many:.0f} ns/event ({t['ingest_many_mb_s']:.0f} MB/s)",
        f"{fl / many:.2f}× floor", goal(fl / many >= 0.6, "≥ 0.6× floor"))
    each = t.get("ingest_many_each_ns")
    if each:
        row(s, "Rust `ingest_many_each`: transitions to a callback, none kept", f"{each:.0f} ns/event",
            f"{fl / each:.2f}× floor")
    again = t.get("ingest_many_again_ns")
    if again:
        row(s, "Rust `ingest_many` of the same batch again (all duplicates, empty report)", f"{again:.0f} ns/event",
            f"{fl / again:.2f}× floor")
    graced = t.get("ingest_many_grace_ns")
    if graced:
        row(s, f"Rust `ingest_many` with a 30 s offline grace ({t['grace_transitions']:,} transitions vs {t['transitions']:,})",
            f"{graced:.0f} ns/event", f"{many / graced:.2f}× grace off", goal(many / graced >= 0.9, "≥ 0.9× grace off"))
    row(s, "baseline (seed demo port)", f"{base:.0f} ns/event", f"{fl / base:.2f}× floor")
    row(s, "`ingest_many` vs baseline", "", f"{base / many:.2f}× baseline", goal(base / many >= 5, "≥ 5× baseline"))
    row(s, "`ingest_many` allocations", f"{t['ingest_many_allocs_per_event']:.2f} per event")
    hosts = [("Python", py, 0.7), ("Node native", nn, 0.7), ("Node wasm", nw, 0.4)]
    for name, h, want in hosts:
        if h is None:
            row(s, f"{name}", "not run")
            continue
        r = many / h["batch_ns"]
        batch = "`ingest_many`" if name == "Python" else "`ingestMany`"
        row(s, f"{name} {batch}", f"{h['batch_ns']:.0f} ns/event", f"{r:.2f}× Rust batch", goal(r >= want, f"≥ {want}× Rust batch"))
        if again and h.get("batch_again_ns"):
            ra = again / h["batch_again_ns"]
            row(s, f"{name} {batch} again (all duplicates, empty report)", f"{h['batch_again_ns']:.0f} ns/event",
                f"{ra:.2f}× Rust again", f"report conversion ≈ {h['batch_ns'] - h['batch_again_ns'] - (many - again):+.0f} ns/event more than Rust's")
        row(s, f"{name} `ingest`, line by line", f"{h['ingest_ns']:.0f} ns/event",
            f"{many / h['ingest_ns']:.2f}× Rust batch", f"overhead {h['ingest_ns'] - one:+.0f} ns/call vs Rust `ingest_json`")
    oc = rust.get("one_client")
    if oc:
        s = f"one client, {oc['connects']:,} connects never closed (`ingest_many`)"
        for key, what in [("default", "default policy (maxOpenChannels 8, tombstonesPerClient 8)"),
                          ("takeover", "takeover"),
                          ("largest", f"maxOpenChannels 1024, tombstonesPerClient 1024 (the largest bounds; first {oc.get('largest_connects', oc['connects']):,} connects)")]:
            v = oc[f"{key}_ns"]
            row(s, what, f"{v:.0f} ns/event", f"{many / v:.2f}× stream batch", "bounded work per event")
    n = m["clients"]
    s = f"memory ({n:,} clients)"
    ids = m["id_bytes_per_client"]
    on, on_x = m["online_bytes_per_client"], m["online_bytes_per_client_minus_ids"]
    row(s, "id bytes per client (clientId + channelId + clientIp)", f"{ids:.1f} B")
    # The memory goals are about 1M clients; below that, table and Vec capacity rounding dominate.
    big = n >= 1_000_000
    row(s, "engine, one open channel: live bytes per client", f"{on:.1f} B (ids + {on_x:.1f} B)", "",
        goal(on_x <= 100, "≤ 100 B + ids") if big else "goal judged at 1M clients")
    row(s, "engine, one tombstone: live bytes per client", f"{m['tombstone_bytes_per_client']:.1f} B")
    bo, bt = m["baseline_online_bytes_per_client"], m["baseline_tombstone_bytes_per_client"]
    row(s, "baseline, one open channel: live bytes per client", f"{bo:.1f} B", f"{bo / on:.2f}× engine",
        goal(bo / on >= 5, "≥ 5× less than baseline") if big else "goal judged at 1M clients")
    row(s, "baseline, after connect + tcpclean: live bytes per client", f"{bt:.1f} B",
        f"{bt / max(m['tombstone_bytes_per_client'], 1e-9):.2f}× engine")
    row(s, "RSS growth per online client: engine / baseline",
        f"{m['online_rss_growth_per_client']:.0f} B / {m['baseline_online_rss_growth_per_client']:.0f} B")
    row(s, "process RSS after the engine fill (VmRSS)", f"{m['rss_after_online_fill'] / 2**20:.1f} MiB")
    def query_rows(s, q, ms):
        """The query rows of one engine; `ms` is the format of millisecond figures."""
        row(s, "`is_online` (online id / unknown id)", f"{q['is_online_hit_ns']:.0f} ns / {q['is_online_miss_ns']:.0f} ns")
        row(s, "`client` (online id)", f"{q['client_ns']:.0f} ns")
        row(s, "`count_online` (all / one group)", f"{q['count_online_ns']:.1f} ns / {q['count_online_group_ns']:.0f} ns")
        row(s, "`online_clients` full walk, limit 1000",
            f"{q['online_walk_ms']:{ms}} ms, {q['online_walk_pages']} pages ({q['online_walk_ns_per_client']:.0f} ns per client)")

    def snapshot_rows(s, q, ms):
        row(s, "snapshot size", f"{q['snapshot_bytes_per_client']:.1f} B per client ({q['snapshot_bytes'] / 1e6:.1f} MB)")
        row(s, "`snapshot()` / `restore()`", f"{q['snapshot_ms']:{ms}} ms / {q['restore_ms']:{ms}} ms")

    mq = m.get("queries")
    if mq:
        s = f"queries and snapshot ({n:,} clients, all online)"
        query_rows(s, mq, ".0f")
        snapshot_rows(s, mq, ".0f")
    snapshot_rows(f"snapshot ({t['clients']:,} clients)", q, ".1f")
    query_rows(f"queries ({q['online']:,} online)", q, ".1f")
    wasm = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pkg", "dist", "node", "mqtt_status_wasm_bg.wasm")
    if os.path.exists(wasm):
        import gzip
        with open(wasm, "rb") as f:
            raw = f.read()
        row("WebAssembly module (pkg/dist/node, as built)", "raw / gzip -9",
            f"{len(raw):,} B / {len(gzip.compress(raw, 9)):,} B")
    if fit:
        f = fit["fit"]
        s = f"fit ({f['clients']:,} clients, one connect each)"
        row(s, "live bytes / RSS", f"{f['live_bytes'] / 2**30:.2f} GiB ({f['live_bytes_per_client']:.0f} B per client) "
            f"/ {f['rss_after'] / 2**30:.2f} GiB", "", f"filled in {f['fill_secs']:.1f} s")

    print(f"\nmqtt-status benchmarks, preset {a.preset} (ratios: same run; higher = faster)\n")
    print("| section | measure | value | ratio | goal / note |")
    print("|---|---|---|---|---|")
    last = None
    for r in rows:
        sec = r[0] if r[0] != last else ""
        last = r[0]
        print("| " + " | ".join((sec,) + r[1:]) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rust": rust, "python": py, "node_native": nn, "node_wasm": nw, "fit": fit}, f, indent=1)


if __name__ == "__main__":
    main()
