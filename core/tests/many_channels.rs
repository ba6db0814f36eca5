//! One client with very many channels (issue 16, item 2): a client whose channels never close
//! used to keep every one of them and scan them all on every event, so 100,000 connects took
//! minutes. Now only `maxOpenChannels` of them can be open and the rest are tombstones under
//! the usual bound, so what a client holds is bounded by its configuration. Asserted
//! structurally (no timing): the channels held, open and tombstones after 100,000 connects, and
//! after merging two such engines. Before the fix this test did not finish (quadratic in debug
//! builds) and held 100,000 channels.

use mqtt_status::{ChannelState, Config, StatusEngine};

const ID: &str = "GID_x@@@dev";

/// `n` connects of one client, channel `k` at time `1000 + k` (never closed), as JSONL, from
/// channel `offset` on.
fn connects(offset: u64, n: u64) -> String {
    (offset..offset + n)
        .map(|k| {
            format!(
                r#"{{"clientId":"{ID}","channelId":"{k:032x}","eventType":"connect","time":{}}}"#,
                1000 + k
            ) + "\n"
        })
        .collect()
}

/// Asserts the bound and returns `(held, open)` of the client.
fn held(e: &StatusEngine) -> (usize, usize) {
    let c = e.config();
    let limit = if c.takeover { 1 } else { c.max_open_channels as usize };
    let status = e.client(ID).expect("known client");
    let open = status.channels.iter().filter(|ch| ch.state == ChannelState::Open).count();
    let held = status.channels.len();
    assert!(held <= limit + c.tombstones_per_client as usize, "holds {held} channels");
    let s = e.stats();
    assert_eq!((s.open_channels, s.tombstones), (open as u64, (held - open) as u64));
    assert!(status.online);
    (held, open)
}

#[test]
fn one_client_with_100k_connects_never_closed_holds_a_bounded_number_of_channels() {
    // Large bounds make every event cost more (it is bounded by the configuration, not free):
    // fewer connects there keep this test quick in debug builds.
    let configs = [
        (Config::default(), 100_000),
        (Config { takeover: true, ..Config::default() }, 100_000),
        (Config { max_open_channels: 100, tombstones_per_client: 50, ..Config::default() }, 10_000),
    ];
    for (config, n) in configs {
        let mut e = StatusEngine::new(config).unwrap();
        let report = e.ingest_many(connects(0, n).as_bytes());
        assert_eq!((report.applied, report.transitions.len()), (n, 1));
        let limit = if config.takeover { 1 } else { config.max_open_channels as usize };
        // The newest connects are open, a full set of tombstones (the superseded ones) behind.
        assert_eq!(held(&e), (limit + config.tombstones_per_client as usize, limit), "{config:?}");
        let status = e.client(ID).unwrap();
        assert_eq!(status.connects, n);
        let newest = format!("{:032x}", n - 1);
        assert!(status.channels.iter().any(|ch| ch.channel_id == newest && ch.state == ChannelState::Open));
        // The horizon covers every dropped channel: their redeliveries are late.
        let dropped = n - (limit + config.tombstones_per_client as usize) as u64;
        assert_eq!(status.horizon, Some(1000 + dropped - 1));
        let again = e.ingest_many(connects(0, n).as_bytes());
        assert_eq!((again.applied, again.late, again.duplicates), (0, dropped, n - dropped));

        // Two such engines merge into one that holds no more.
        let mut other = StatusEngine::new(config).unwrap();
        other.ingest_many(connects(n / 2, n).as_bytes());
        e.merge(&other).unwrap();
        let (h, open) = held(&e);
        assert_eq!(open, limit);
        assert!(h <= limit + config.tombstones_per_client as usize);
        let back = StatusEngine::restore(&e.snapshot()).unwrap();
        assert_eq!(back.snapshot(), e.snapshot());
    }
}
