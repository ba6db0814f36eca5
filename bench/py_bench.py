"""Times the Python binding on a JSONL file: `ingest` line by line, and one `ingest_many`.

Usage: python bench/py_bench.py FILE [REPS]. Prints one JSON object (ns per event, best of REPS),
which bench/run.sh folds into the table.
"""
import json
import sys
import time

import mqtt_status


def best(reps, fn):
    out = float("inf")
    for _ in range(reps):
        out = min(out, fn())
    return out


def main():
    path = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path, "rb") as f:
        data = f.read()
    lines = [l for l in data.decode("utf-8").split("\n") if l.strip()]
    n = len(lines)

    def one():
        e = mqtt_status.StatusEngine()
        ingest = e.ingest
        t = time.perf_counter_ns()
        for line in lines:
            ingest(line)
        return time.perf_counter_ns() - t

    # The report is freed after the clock stops, as in the Rust rows (bench/src/main.rs).
    def many():
        e = mqtt_status.StatusEngine()
        t = time.perf_counter_ns()
        report = e.ingest_many(data)
        ns = time.perf_counter_ns() - t
        del report
        return ns

    def again():
        e = mqtt_status.StatusEngine()
        e.ingest_many(data)
        t = time.perf_counter_ns()
        report = e.ingest_many(data)
        ns = time.perf_counter_ns() - t
        del report
        return ns

    print(json.dumps({
        "events": n,
        "ingest_ns": best(reps, one) / n,
        "batch_ns": best(reps, many) / n,
        "batch_again_ns": best(reps, again) / n,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
