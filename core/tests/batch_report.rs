//! Batch reports: the error cap, the rejection count, and items a host could not serialize.

use mqtt_status::{Error, StatusEngine, MAX_REPORTED_ERRORS};

const GOOD: &[u8] = br#"{"clientId":"G@@@d","channelId":"c1","eventType":"connect","time":5}"#;

#[test]
fn a_report_keeps_the_first_errors_and_counts_all() {
    let mut engine = StatusEngine::default();
    let mut jsonl = b"x\n".repeat(MAX_REPORTED_ERRORS + 7);
    jsonl.extend_from_slice(GOOD);
    let report = engine.ingest_many(&jsonl);
    assert_eq!((report.applied, report.rejected), (1, MAX_REPORTED_ERRORS as u64 + 7));
    let indexes: Vec<u64> = report.errors.iter().map(|e| e.index).collect();
    assert_eq!(indexes, (0..MAX_REPORTED_ERRORS as u64).collect::<Vec<_>>());
    assert_eq!(engine.stats().rejected, MAX_REPORTED_ERRORS as u64 + 7);
}

#[test]
fn unserializable_items_are_rejected_in_place() {
    let mut engine = StatusEngine::default();
    let items: Vec<Result<&[u8], Error>> = vec![
        Err(Error::unserializable("cyclic")),
        Ok(b"{bad"),
        Ok(GOOD),
        Err(Error::unserializable("BigInt")),
    ];
    let report = engine.ingest_item_results_each(items, None, |_| {});
    assert_eq!((report.applied, report.rejected), (1, 3));
    let got: Vec<(u64, &str)> = report.errors.iter().map(|e| (e.index, e.code.as_str())).collect();
    assert_eq!(got, vec![(0, "invalid_json"), (1, "invalid_json"), (3, "invalid_json")]);
    assert!(
        report.errors[0].message.contains("cannot be serialized to JSON: cyclic"),
        "{}",
        report.errors[0].message
    );
    let stats = engine.stats();
    assert_eq!((stats.events, stats.rejected, stats.applied), (4, 3, 1));
}

#[test]
fn unserializable_items_respect_the_cap_in_input_order() {
    let mut engine = StatusEngine::default();
    // Bad bytes and unserializable items alternate, past the cap.
    let n = MAX_REPORTED_ERRORS + 10;
    let items = (0..n).map(|i| if i % 2 == 0 { Ok(&b"x"[..]) } else { Err(Error::unserializable("no")) });
    let report = engine.ingest_item_results_each(items, None, |_| {});
    assert_eq!(report.rejected, n as u64);
    let indexes: Vec<u64> = report.errors.iter().map(|e| e.index).collect();
    assert_eq!(indexes, (0..MAX_REPORTED_ERRORS as u64).collect::<Vec<_>>());
    assert_eq!(engine.stats().rejected, n as u64);
}

#[test]
fn a_refused_single_input_counts_as_a_rejection() {
    let mut engine = StatusEngine::default();
    let e = engine.reject_unread(Error::unserializable("toJSON threw"));
    assert_eq!(e.code().as_str(), "invalid_json");
    assert_eq!((engine.stats().events, engine.stats().rejected), (1, 1));
}
