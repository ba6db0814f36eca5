//! `ingest_many`: a JSONL batch gives what its lines give one by one.
//!
//! Input: a config flags byte (see `mqtt_status_fuzz::config`; bit 4 of it starts from an engine
//! holding a few clients, bit 5 reads an `until` time: four bytes, in seconds), a byte that
//! chooses where to cut the batch in two, then the JSONL. Seeds are `00 00` + JSONL.
//!
//! The same JSONL through `ingest_many_until`, through `ingest_json` line by line (blank lines
//! skipped, `\r\n` endings, events after `until` skipped uncounted), through `ingest_many_each`,
//! through `ingest_items_until` (the non-blank lines as a list) and through two `ingest_many`
//! calls cut at a line boundary gives the same snapshot bytes (counters included), the same
//! transitions in the same order, and the same errors (index, code, field, message). The line by
//! line engine has its client index under another key (from the cut byte), so the answers are
//! also checked not to depend on the key (`IndexKey`).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_status::{
    is_observation, parse_observation_line, with_notification, BatchError, BatchReport, IndexKey, Outcome,
    StatusEngine, Transition, MAX_REPORTED_ERRORS,
};
use mqtt_status_fuzz::{check_consistent, check_ingest_error, config, engine, EXAMPLE};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((config, extra)) = config(&mut u) else { return };
    let until = (extra & 2 != 0).then(|| u64::from(u32::arbitrary(&mut u).unwrap_or(0)) * 1000);
    let cut = u8::arbitrary(&mut u).unwrap_or(0);
    let jsonl = u.take_rest();
    let Some(mut fresh) = engine(config) else { return };
    if extra & 1 != 0 {
        fresh.ingest_many(EXAMPLE.as_bytes()); // some lines are refused under small limits
    }

    let mut batch = fresh.clone();
    let report = batch.ingest_many_until(jsonl, until);
    for err in &report.errors {
        let known = mqtt_status::ErrorCode::ALL.iter().any(|c| c.as_str() == err.code);
        assert!(known, "{err:?}");
    }
    let max = config.max_id_len;

    // Line by line, as the docs define a batch, in an engine keyed otherwise.
    let mut one = fresh.clone().with_index_key(IndexKey::from_bytes([cut; 16]));
    let mut want = BatchReport::default();
    let mut transitions: Vec<Transition> = Vec::new();
    let mut items: Vec<(usize, &[u8])> = Vec::new();
    for (index, line) in jsonl.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        items.push((index, line));
        // An observation line (SPEC §9) is read by its own parser, which gives its time.
        let time = if is_observation(line) {
            parse_observation_line(line, max).and_then(Result::ok).map(|(_, _, t)| t)
        } else {
            with_notification(line, None, max, |n| n.time).ok()
        };
        if let (Some(u), Some(t)) = (until, time) {
            if t > u {
                continue;
            }
        }
        match one.ingest_json_detailed(line, None) {
            Ok((outcome, t)) => {
                match outcome {
                    Outcome::Applied => want.applied += 1,
                    Outcome::Duplicate => want.duplicates += 1,
                    Outcome::Late => want.late += 1,
                }
                transitions.extend(t);
            }
            Err(e) => {
                check_ingest_error(&e);
                // A report lists the first MAX_REPORTED_ERRORS and counts every rejection.
                want.rejected += 1;
                if want.errors.len() < MAX_REPORTED_ERRORS {
                    want.errors.push(BatchError::new(index as u64, &e));
                }
            }
        }
    }
    let got_transitions = report.transitions.to_vec();
    assert_eq!(got_transitions, transitions, "transitions: batch vs line by line");
    assert_eq!(report.errors, want.errors, "errors: batch vs line by line");
    assert_eq!(
        (report.applied, report.duplicates, report.late, report.rejected),
        (want.applied, want.duplicates, want.late, want.rejected)
    );
    let snap = batch.snapshot();
    assert_eq!(snap, one.snapshot(), "snapshot: batch vs line by line");

    // Streamed transitions.
    let mut each = fresh.clone();
    let mut streamed = Vec::new();
    let counts = each.ingest_many_each(jsonl, until, |t| streamed.push(t.to_transition()));
    assert!(counts.transitions.is_empty());
    assert_eq!(streamed, transitions, "transitions: ingest_many_each");
    assert_eq!(counts.errors, want.errors, "errors: ingest_many_each");
    assert_eq!(each.snapshot(), snap, "snapshot: ingest_many_each");

    // The same lines as a list of items (indices are list positions there).
    let mut listed = fresh.clone();
    let by_items = listed.ingest_items_until(items.iter().map(|(_, l)| *l), until);
    assert_eq!(by_items.transitions.to_vec(), transitions, "transitions: ingest_items");
    let item_errors: Vec<BatchError> = by_items
        .errors
        .iter()
        .map(|e| BatchError { index: items[e.index as usize].0 as u64, ..e.clone() })
        .collect();
    assert_eq!(item_errors, want.errors, "errors: ingest_items");
    assert_eq!(listed.snapshot(), snap, "snapshot: ingest_items");

    // Cut in two at a line boundary: two batches are one.
    let at = jsonl.len() * usize::from(cut) / 256;
    let at = jsonl[at..].iter().position(|&b| b == b'\n').map_or(jsonl.len(), |p| at + p + 1);
    let (head, tail) = jsonl.split_at(at);
    let mut two = fresh.clone();
    let first = two.ingest_many_until(head, until);
    let second = two.ingest_many_until(tail, until);
    let mut both = first.transitions.to_vec();
    both.extend(second.transitions.to_vec());
    assert_eq!(both, transitions, "transitions: two batches");
    assert_eq!(first.rejected + second.rejected, want.rejected, "rejected: two batches");
    assert_eq!(two.snapshot(), snap, "snapshot: two batches");

    check_consistent(&batch, true);
    let _ = StatusEngine::restore(&snap).expect("own snapshot");
});
