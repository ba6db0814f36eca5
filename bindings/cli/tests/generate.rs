//! `generate` is deterministic and writes what it says.

mod common;

use common::{ok, run, scratch};

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let args = ["generate", "--clients", "200", "--seed", "9", "--duplicates", "0.2", "--invalid", "0.01"];
    let a = ok(&run(&args));
    let b = ok(&run(&args));
    assert_eq!(a, b);
    let mut other = args;
    other[4] = "10";
    assert_ne!(a, ok(&run(&other)));

    let dir = scratch("gen");
    let (f, t1, t2) = (dir.join("f.jsonl"), dir.join("t1.json"), dir.join("t2.json"));
    let mut with_file = args.to_vec();
    with_file.extend(["-o", f.to_str().unwrap(), "--truth", t1.to_str().unwrap()]);
    ok(&run(&with_file));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), a, "-o writes the same bytes as stdout");
    let mut again = args.to_vec();
    again.extend(["--truth", t2.to_str().unwrap()]);
    ok(&run(&again));
    assert_eq!(std::fs::read(&t1).unwrap(), std::fs::read(&t2).unwrap());
}

#[test]
fn lines_are_realistic_and_counted() {
    let dir = scratch("gen-shape");
    let g = common::generate(
        &dir,
        "s",
        &["--clients", "300", "--seed", "5", "--invalid", "0.01", "--groups", "6"],
    );
    let truth = g.truth();
    let text = std::fs::read_to_string(&g.log).unwrap();
    assert_eq!(text.lines().count() as u64, truth["lines"].as_u64().unwrap());
    let (mut string_body, mut object_body, mut bare, mut bad) = (0, 0, 0, 0);
    let mut groups = std::collections::BTreeSet::new();
    for line in text.lines() {
        match mqtt_status::with_notification(line.as_bytes(), None, 256, |n| {
            groups.insert(n.client_id.split("@@@").next().unwrap().to_string());
            assert_eq!(n.channel_id.len(), 32);
            assert!(n.channel_id.bytes().all(|b| b.is_ascii_hexdigit()));
            let ip = n.client_ip.expect("clientIp");
            let (addr, port) = ip.rsplit_once(':').unwrap();
            assert_eq!(addr.split('.').filter(|p| p.parse::<u8>().is_ok()).count(), 4, "{ip}");
            port.parse::<u16>().unwrap();
        }) {
            Ok(()) if line.starts_with(r#"{"tag":"#) && line.contains(r#""body":""#) => string_body += 1,
            Ok(()) if line.starts_with(r#"{"tag":"#) => object_body += 1,
            Ok(()) => bare += 1,
            Err(_) => bad += 1,
        }
    }
    assert_eq!(bad, truth["invalid"].as_u64().unwrap());
    assert!(string_body > object_body && object_body > 0 && bare > 0, "{string_body} {object_body} {bare}");
    assert_eq!(groups.len(), 6);
    let online = truth["onlineCount"].as_u64().unwrap();
    assert!(online > 60 && online < 200, "about 40% online: {online}");
    assert!(truth["duplicates"].as_u64().unwrap() > 0);
}

#[test]
fn committed_sample_is_reproducible_and_agrees_with_its_truth() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    let (log, truth) = (data.join("sample.jsonl"), data.join("sample.truth.json"));
    // The command of examples/data/README.md.
    let out = run(&[
        "generate",
        "--clients",
        "300",
        "--seed",
        "42",
        "--events-per-client",
        "4..20",
        "--invalid",
        "0.002",
    ]);
    assert!(
        ok(&out).as_bytes() == std::fs::read(&log).unwrap(),
        "sample.jsonl is what its README command makes"
    );
    let g = common::Generated { log, truth };
    let doc = common::replay_json(&[g.log_str()]);
    assert_eq!(common::online_list(&doc), g.truth_online());
    assert!(std::fs::metadata(&g.log).unwrap().len() < 1_000_000);
}
