//! A batch large enough for the engine to warm memory ahead of each window of lines (see
//! `core/src/warm.rs`) must give exactly what ingesting its lines one by one gives: the same
//! state, transitions, counts and errors — including when the warming guesses wrong (ids with
//! escapes, a decoy `clientId` inside another value, bad lines).

use mqtt_status::{StatusEngine, Transition};

/// Deterministic pseudo-random numbers (no dependency, same stream everywhere).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn line(rng: &mut Lcg, client: u64, channel: u64, kind: &str, time: u64) -> String {
    let id = match client % 7 {
        // An escaped id: the quick scan reads only up to the backslash.
        0 => format!("GID_esc@@@d\\u00e9{client}"),
        // No group.
        1 => format!("solo{client}"),
        _ => format!("GID_g{}@@@dev{client:06x}", client % 4),
    };
    let body = format!(
        r#"{{"clientId":"{id}","channelId":"{channel:032x}","clientIp":"10.0.{}.{}:1883","eventType":"{kind}","time":{time}}}"#,
        client % 250,
        channel % 250
    );
    match rng.next() % 6 {
        0 => body,
        1 => format!(r#"{{"tag":"{kind}","body":{body}}}"#),
        // A decoy `clientId` inside another value comes first; it names another client.
        2 => body.replacen('{', &format!(r#"{{"note":"clientId\":\"GID_g1@@@dev{:06x}","#, client + 1), 1),
        3 => String::from("{\"clientId\":"), // a bad line
        _ => format!(r#"{{"tag":"{kind}","body":"{}"}}"#, body.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

/// Two sessions per client (the `round`-th reconnect of the fleet), shuffled, a tenth redelivered.
fn stream(clients: u64, round: u64, rng: &mut Lcg) -> Vec<String> {
    let mut lines = Vec::new();
    for c in 0..clients {
        for k in 0..2 {
            let (ch, t) = (round << 40 | (c * 2 + k), (round << 30) + c * 10 + k * 3);
            lines.push(line(rng, c, ch, "connect", t));
            if (c + k) % 3 != 0 {
                lines.push(line(rng, c, ch, if k == 0 { "disconnect" } else { "tcpclean" }, t + 1));
            }
        }
    }
    // Shuffle (Fisher–Yates), then redeliver a tenth of the lines.
    for i in (1..lines.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        lines.swap(i, j);
    }
    let again: Vec<String> = lines.iter().step_by(10).cloned().collect();
    lines.extend(again);
    lines
}

#[test]
fn a_warmed_batch_equals_its_lines_one_by_one() {
    let mut rng = Lcg(42);
    // Past the size at which the engine starts warming, in two batches: the second one meets
    // a full client table, so most of its guesses find a client.
    let (mut batch, mut single) = (StatusEngine::default(), StatusEngine::default());
    for round in 0..2 {
        let lines = stream(20_000, round, &mut rng);
        let jsonl = lines.join("\n");
        let report = batch.ingest_many(jsonl.as_bytes());
        let (mut flips, mut failed) = (Vec::<Transition>::new(), Vec::new());
        for (i, l) in lines.iter().enumerate() {
            match single.ingest_json(l.as_bytes(), None) {
                Ok(t) => flips.extend(t),
                Err(e) => failed.push((i as u64, e.code().as_str().to_string())),
            }
        }
        assert!(!failed.is_empty() && !flips.is_empty());
        assert_eq!(report.transitions.to_vec(), flips);
        // The report keeps the first errors and counts them all.
        let errors: Vec<_> = report.errors.iter().map(|e| (e.index, e.code.clone())).collect();
        assert_eq!(report.rejected, failed.len() as u64);
        failed.truncate(mqtt_status::MAX_REPORTED_ERRORS);
        assert_eq!(errors, failed);
        assert_eq!(batch.snapshot(), single.snapshot());
        assert!(batch.stats().clients > 16_384, "{}", batch.stats().clients);
    }
}
