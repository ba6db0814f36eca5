//! `--save` / `--restore`: a replay split across a snapshot equals one replay.

mod common;

use common::{generate, ok, online_list, replay_json, run, scratch};

#[test]
fn save_restore_round_trip_equals_single_replay() {
    let dir = scratch("snap");
    let g = generate(
        &dir,
        "s",
        &["--clients", "300", "--seed", "51", "--duplicates", "0.3", "--invalid", "0.01"],
    );
    let text = std::fs::read_to_string(&g.log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    let (pa, pb) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&pa, a.join("\n") + "\n").unwrap();
    std::fs::write(&pb, b.join("\n") + "\n").unwrap();
    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (whole, half, resumed) = (dir.join("whole.snap"), dir.join("half.snap"), dir.join("resumed.snap"));

    for policy in [&[][..], &["--takeover", "--tombstones-per-client", "4"][..]] {
        let mut args = vec![p(&g.log), "--save".into(), p(&whole)];
        args.extend(policy.iter().map(|s| s.to_string()));
        let single = replay_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let mut args = vec![p(&pa), "--save".into(), p(&half)];
        args.extend(policy.iter().map(|s| s.to_string()));
        replay_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        // The snapshot's configuration wins: no policy flags needed to resume.
        let cont = replay_json(&["--restore", &p(&half), &p(&pb), "--save", &p(&resumed)]);
        assert_eq!(std::fs::read(&whole).unwrap(), std::fs::read(&resumed).unwrap(), "{policy:?}");
        assert_eq!(cont["stats"], single["stats"]);
        assert_eq!(cont["config"], single["config"]);
        assert_eq!(online_list(&cont), online_list(&single));
        assert_eq!(cont["restoredFrom"], p(&half));
        // Restoring alone answers the same queries.
        let only = replay_json(&["--restore", &p(&whole)]);
        assert_eq!(only["stats"], single["stats"]);
        assert_eq!(online_list(&only), online_list(&single));
    }
    assert_eq!(online_list(&replay_json(&["--restore", &p(&whole)])), g.truth_online());
}

#[test]
fn restore_conflicts_and_bad_snapshots() {
    let dir = scratch("snap-err");
    let g = generate(&dir, "e", &["--clients", "20", "--seed", "52"]);
    let snap = dir.join("t.snap");
    let s = snap.to_str().unwrap();
    ok(&run(&["replay", g.log_str(), "--takeover", "--save", s]));
    // Agreeing flags are fine; contradicting ones are a usage error naming the option.
    ok(&run(&["replay", "--restore", s, "--takeover", "--tombstones-per-client", "8"]));
    let out = run(&["replay", "--restore", s, "--close-on-disconnect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--close-on-disconnect"));
    let out = run(&["replay", "--restore", s, "--max-id-len", "64"]);
    assert_eq!(out.status.code(), Some(2));

    let junk = dir.join("junk.snap");
    std::fs::write(&junk, b"definitely not a snapshot").unwrap();
    let out = run(&["replay", "--restore", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("junk.snap") && msg.contains("snapshot"), "{msg}");
    assert_eq!(run(&["replay", "--restore", "missing.snap"]).status.code(), Some(3));
    let out = run(&["replay", g.log_str(), "--save", "no/such/dir/x.snap"]);
    assert_eq!(out.status.code(), Some(3));
}
