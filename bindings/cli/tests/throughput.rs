//! Replay throughput of the CLI against the core's `ingest_many` on the same log, measured in
//! one run. Ignored by default (it is a measurement, and wants a release build):
//!
//! ```sh
//! cargo test --release -p mqtt-status-cli --test throughput -- --ignored --nocapture
//! ```

mod common;

use std::time::Instant;

use common::{generate, ok, run, scratch};
use mqtt_status::StatusEngine;

#[test]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
fn cli_replay_keeps_up_with_the_core() {
    let dir = scratch("throughput");
    let clients = std::env::var("THROUGHPUT_CLIENTS").unwrap_or_else(|_| "70000".into());
    let g = generate(&dir, "big", &["--clients", &clients, "--seed", "1", "--events-per-client", "6..24"]);
    let lines = g.truth()["lines"].as_u64().unwrap();
    let data = std::fs::read(&g.log).unwrap();

    let t = Instant::now();
    let mut engine = StatusEngine::default();
    let report = engine.ingest_many(&data);
    let core_only_s = t.elapsed().as_secs_f64();
    assert!(report.errors.is_empty());
    drop(report); // the CLI frees each chunk's report (its transitions) as it goes
    let core_s = t.elapsed().as_secs_f64();

    // Warm the page cache, then time the whole process: start-up, reading, output.
    let _ = std::fs::read(&g.log).unwrap();
    let t = Instant::now();
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&run(&["replay", "--format", "json", "--limit", "1", g.log_str()])))
            .unwrap();
    let cli_s = t.elapsed().as_secs_f64();
    assert_eq!(doc["stats"]["online"], engine.stats().online);
    assert_eq!(doc["stats"]["online"], g.truth()["onlineCount"]);

    let mb = data.len() as f64 / 1e6;
    println!("log: {lines} lines, {mb:.1} MB");
    println!("core ingest_many: {core_only_s:.3} s, {:.0} events/s", lines as f64 / core_only_s);
    println!("  + drop report:  {core_s:.3} s, {:.0} events/s", lines as f64 / core_s);
    println!("cli replay:       {cli_s:.3} s, {:.0} events/s", lines as f64 / cli_s);
    println!("cli / core time:  {:.2}", cli_s / core_s);
}
