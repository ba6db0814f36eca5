//! Shared pieces of the fuzz targets: how a target's input bytes choose an engine configuration,
//! the documented error rules, the state comparison of `core/tests/laws.rs`, the consistency
//! checks every engine must pass, and the snapshot checksum.
//!
//! Every check here panics on a violation: libFuzzer treats a panic as a crash and keeps the input.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use mqtt_status::{Config, Error, ErrorCode, StatusEngine, MAX_ID_LEN_LIMIT, MAX_TOMBSTONES_LIMIT};

/// Reads an engine configuration from one flags byte (and, for some modes, a few more bytes).
///
/// Bits 0 and 1 are `closeOnDisconnect` and `takeover`; bits 2–3 choose the limits: the
/// defaults, small ones (few tombstones, short ids: the bounds get exercised), raw 32-bit values
/// (mostly out of range, so `new` must refuse them), or the largest accepted ones. Bits 4–7 are
/// left to the target. Seeds start with a `0x00` byte: the default configuration.
pub fn config(u: &mut Unstructured<'_>) -> arbitrary::Result<(Config, u8)> {
    let flags = u8::arbitrary(u)?;
    let mut c = Config { close_on_disconnect: flags & 1 != 0, takeover: flags & 2 != 0, ..Config::default() };
    match (flags >> 2) & 3 {
        0 => {}
        1 => {
            c.tombstones_per_client = u32::from(u8::arbitrary(u)? % 5);
            c.max_id_len = u32::from(u8::arbitrary(u)? % 48) + 1;
        }
        2 => {
            c.tombstones_per_client = u32::arbitrary(u)?;
            c.max_id_len = u32::arbitrary(u)?;
        }
        _ => {
            c.tombstones_per_client = MAX_TOMBSTONES_LIMIT;
            c.max_id_len = MAX_ID_LEN_LIMIT;
        }
    }
    Ok((c, flags >> 4))
}

/// Builds the engine, checking that `new` refuses exactly the configurations the docs call out
/// of range (`invalid_field` naming the option). `None` for a refused configuration.
pub fn engine(config: Config) -> Option<StatusEngine> {
    let in_range = (1..=MAX_ID_LEN_LIMIT).contains(&config.max_id_len)
        && config.tombstones_per_client <= MAX_TOMBSTONES_LIMIT;
    match StatusEngine::new(config) {
        Ok(e) => {
            assert!(in_range, "accepted an out-of-range config {config:?}");
            Some(e)
        }
        Err(e) => {
            assert!(!in_range, "refused a valid config {config:?}: {e}");
            assert_eq!(e.code(), ErrorCode::InvalidField, "{e}");
            assert!(matches!(e.field(), Some("maxIdLen" | "tombstonesPerClient")), "{e:?}");
            None
        }
    }
}

/// Whether a known, reported finding is to be tolerated in this run: `MQTT_STATUS_FUZZ_KNOWN` is a
/// comma-separated list of names (docs/FUZZING.md, "Findings"), empty by default (strict). Long
/// runs set it to look past a finding that is already reported and not yet fixed.
pub fn known(name: &str) -> bool {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            let v = std::env::var("MQTT_STATUS_FUZZ_KNOWN").unwrap_or_default();
            v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        })
        .iter()
        .any(|k| k == name)
}

/// The documented codes and fields of an ingest error (docs/semantics.md, "Input validation").
pub fn check_ingest_error(e: &Error) {
    let field = e.field();
    let ok = match e.code() {
        ErrorCode::InvalidJson => field.is_none(),
        // `online` and `observe`: an observation line (SPEC §9).
        ErrorCode::MissingField => {
            matches!(field, Some("clientId" | "channelId" | "eventType" | "time" | "body" | "online"))
        }
        ErrorCode::InvalidField => matches!(
            field,
            Some(
                "clientId"
                    | "channelId"
                    | "eventType"
                    | "tag"
                    | "time"
                    | "clientIp"
                    | "body"
                    | "online"
                    | "observe"
            )
        ),
        ErrorCode::UnknownEventType => matches!(field, Some("eventType" | "tag")),
        ErrorCode::TagMismatch => field == Some("tag"),
        // Not ingest errors (snapshots, merges, stores): never from parsing one input.
        ErrorCode::InvalidSnapshot
        | ErrorCode::ConfigMismatch
        | ErrorCode::StoreUnavailable
        | ErrorCode::StoreLocked => false,
    };
    assert!(ok, "undocumented ingest error: code {} field {field:?} ({e})", e.code());
    assert!(!e.to_string().is_empty());
}

/// The state of an engine without its ingest counters, as `core/tests/laws.rs` compares it: the
/// snapshot of a fresh engine (same configuration) that merged it.
pub fn state(e: &StatusEngine) -> Vec<u8> {
    let mut fresh = StatusEngine::new(*e.config()).expect("the engine's own config is valid");
    fresh.merge(e).expect("same config");
    fresh.snapshot()
}

/// Checks what every engine must satisfy whatever it was fed, and returns its stats.
///
/// The online gauge, `count_online`, `online_clients` and the per-group counts agree; each online
/// client's cached flag matches the status judged afresh from its channels; paging through
/// `online_clients` gives the same list; the engine's own snapshot restores to the same bytes.
/// With `fed` (the engine was only ever fed by ingest calls from empty: no restore, no merge) the
/// ingest counters add up too.
pub fn check_consistent(e: &StatusEngine, fed: bool) -> mqtt_status::Stats {
    let s = e.stats();
    let online = e.online_clients(None, None, None);
    assert_eq!(online.len() as u64, s.online, "online_clients vs stats.online");
    assert_eq!(e.count_online(None), s.online, "count_online vs stats.online");
    assert!(online.windows(2).all(|w| w[0] < w[1]), "online_clients not sorted");
    if fed {
        assert_eq!(s.went_online - s.went_offline, s.online, "transitions vs online gauge");
        assert_eq!(s.events, s.applied + s.duplicates + s.late + s.rejected, "event counters");
    }
    for id in &online {
        assert!(e.is_online(id), "{id} listed online but is_online is false");
        let c = e.client(id).expect("an online client is known");
        assert!(c.online, "{id}: cached status online, channels say offline");
    }
    // Paging with a cursor gives the same list.
    let mut paged: Vec<String> = Vec::new();
    loop {
        let page = e.online_clients(None, paged.last().map(String::as_str), Some(2));
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    assert_eq!(paged, online, "pagination");
    let groups = e.groups();
    assert!(groups.windows(2).all(|w| w[0].group_id < w[1].group_id), "groups not sorted");
    let mut grouped_online = 0;
    for g in &groups {
        assert!(g.online <= g.known, "group {g:?}");
        assert_eq!(e.count_online(Some(&g.group_id)), g.online, "count_online({})", g.group_id);
        let members = e.online_clients(Some(&g.group_id), None, None);
        assert_eq!(members.len() as u64, g.online, "online_clients({})", g.group_id);
        grouped_online += g.online;
    }
    let ungrouped = online.iter().filter(|id| !id.contains("@@@")).count() as u64;
    assert_eq!(grouped_online + ungrouped, s.online, "group online counts");
    assert!(groups.iter().map(|g| g.known).sum::<u64>() <= s.clients, "group known counts");
    let bytes = e.snapshot();
    let back = StatusEngine::restore(&bytes).unwrap_or_else(|err| panic!("own snapshot refused: {err}"));
    assert_eq!(back.snapshot(), bytes, "own snapshot does not round-trip");
    assert_eq!(back.stats(), s, "stats after restore");
    s
}

/// `s` with the ingest counters zeroed: what a rejected input or a merge must leave unchanged.
pub fn gauges(s: &mqtt_status::Stats) -> mqtt_status::Stats {
    mqtt_status::Stats {
        events: 0,
        applied: 0,
        duplicates: 0,
        late: 0,
        rejected: 0,
        went_online: 0,
        went_offline: 0,
        ..s.clone()
    }
}

/// `body` followed by its checksum: snapshot bytes that pass the checksum check (the core's own
/// sealing, hidden from its docs; the restore target mutates bodies and must get past the check).
pub fn seal(body: &[u8]) -> Vec<u8> {
    mqtt_status::__seal_snapshot(body)
}

/// Panics unless [`seal`] of a snapshot's body gives the snapshot back, on a few engines (the
/// restore target's mutations are sealed exactly as the core seals).
pub fn checksum_matches_core() {
    let mut e = StatusEngine::default();
    let check = |e: &StatusEngine| {
        let snap = e.snapshot();
        assert_eq!(seal(&snap[..snap.len() - 8]), snap, "seal differs from the core's snapshot checksum");
    };
    check(&e);
    e.ingest_many(EXAMPLE.as_bytes());
    check(&e);
}

/// A few lines of a broker log, used to give targets a non-empty engine and valid snapshots.
pub const EXAMPLE: &str = concat!(
    r#"{"clientId":"GID_a@@@d1","channelId":"2b9b1281046046faafe5e0b458e40001","eventType":"connect","time":1000,"clientIp":"10.0.0.1:1883"}"#,
    "\n",
    r#"{"clientId":"GID_a@@@d1","channelId":"c0","eventType":"tcpclean","time":900}"#,
    "\n",
    r#"{"tag":"connect","body":{"clientId":"GID_a@@@d2","channelId":"c1","time":1500,"clientIp":"[::1]:5000"}}"#,
    "\n",
    r#"{"clientId":"solo","channelId":"x","eventType":"disconnect","time":"7"}"#,
    "\n",
    r#"{"clientId":"GID_b@@@d1","channelId":"c2","eventType":"connect","time":20}"#,
    "\n",
);

/// `body` followed by the checksum a per-client record of `client_id` carries (the core's own
/// sealing: the hash covers the id, which the record leaves out).
pub fn seal_record(client_id: &str, body: &[u8]) -> Vec<u8> {
    mqtt_status::__seal_record(client_id, body)
}

/// Panics unless [`seal_record`] agrees with the core on the records of a few clients (a change
/// of record layout or hash in the core fails the record target at once).
pub fn record_seal_matches_core() {
    let mut e = StatusEngine::default();
    e.ingest_many(EXAMPLE.as_bytes());
    for id in e.client_ids() {
        let rec = e.client_record(id).expect("a known client has a record");
        let body = &rec[..rec.len() - 8];
        assert_eq!(seal_record(id, body), rec, "the fuzz crate's record seal differs from the core's");
    }
}
