//! Memory: live bytes (counting allocator) of the engine and of the baseline holding N clients,
//! each with one open channel or with one closed channel (a tombstone); process RSS.

use crate::alloc_count::{live_bytes, rss_bytes};
use mqtt_status::StatusEngine;
use mqtt_status_bench::baseline::Baseline;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Instant;

const GROUPS: [&str; 4] = ["GID_meter", "GID_lamp", "GID_gateway", "GID_tracker"];

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: deterministic, well spread ids.
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Writes client `i`'s body for `event` into `buf`; returns its id bytes (clientId + channelId +
/// clientIp), the bytes any store must keep.
fn body(buf: &mut String, i: u64, event: &str, time: u64) -> usize {
    buf.clear();
    let h = mix(i);
    let client = format!("{}@@@dev{:08x}", GROUPS[(i % 4) as usize], i);
    let channel = format!("{:016x}{:016x}", h, mix(h));
    let ip =
        format!("10.{}.{}.{}:{}", (h >> 8) & 255, (h >> 16) & 255, (h >> 24) & 255, 1024 + (h >> 32) % 60000);
    let _ = write!(
        buf,
        r#"{{"clientId":"{client}","channelId":"{channel}","clientIp":"{ip}","eventType":"{event}","time":{time}}}"#
    );
    client.len() + channel.len() + ip.len()
}

/// What one fill leaves: live bytes, RSS growth, id bytes, all for `n` clients.
struct Fill {
    live: isize,
    rss: i64,
    ids: usize,
    secs: f64,
}

fn fill<T>(n: u64, closed: bool, store: &mut T, mut feed: impl FnMut(&mut T, &[u8])) -> Fill {
    let mut buf = String::with_capacity(256);
    let (live0, rss0, start) = (live_bytes(), rss_bytes() as i64, Instant::now());
    let mut ids = 0;
    for i in 0..n {
        let t = 1_714_521_600_000 + i;
        ids += body(&mut buf, i, "connect", t);
        feed(store, buf.as_bytes());
        if closed {
            body(&mut buf, i, "tcpclean", t + 60_000);
            feed(store, buf.as_bytes());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Fill { live: live_bytes() - live0 - buf.capacity() as isize, rss: rss_bytes() as i64 - rss0, ids, secs }
}

fn engine_feed(e: &mut StatusEngine, b: &[u8]) {
    e.ingest_json(b, None).expect("valid body");
}

fn baseline_feed(b: &mut Baseline, line: &[u8]) {
    assert!(b.consume(line));
}

fn per(x: f64, n: u64) -> f64 {
    (x / n.max(1) as f64 * 10.0).round() / 10.0
}

/// The memory section for `n` clients.
pub(crate) fn run(n: u64) -> Value {
    let mut e = StatusEngine::default();
    let on = fill(n, false, &mut e, engine_feed);
    assert_eq!(e.count_online(None), n);
    let rss_after = rss_bytes();
    // Query costs at this size too (every client online, one channel each).
    let queries = crate::queries(&e);
    drop(e);
    let mut e = StatusEngine::default();
    let off = fill(n, true, &mut e, engine_feed);
    assert_eq!(e.count_online(None), 0);
    drop(e);
    let mut b = Baseline::new();
    let b_on = fill(n, false, &mut b, baseline_feed);
    assert_eq!(b.count_online(), n as usize);
    drop(b);
    let mut b = Baseline::new();
    let b_off = fill(n, true, &mut b, baseline_feed);
    drop(b);
    json!({
        "clients": n,
        "id_bytes_per_client": per(on.ids as f64, n),
        "online_bytes_per_client": per(on.live as f64, n),
        "online_bytes_per_client_minus_ids": per((on.live - on.ids as isize) as f64, n),
        "tombstone_bytes_per_client": per(off.live as f64, n),
        "online_rss_growth_per_client": per(on.rss as f64, n),
        "rss_after_online_fill": rss_after,
        "baseline_online_bytes_per_client": per(b_on.live as f64, n),
        "baseline_tombstone_bytes_per_client": per(b_off.live as f64, n),
        "baseline_online_rss_growth_per_client": per(b_on.rss as f64, n),
        "online_fill_secs": on.secs,
        "queries": queries,
        "baseline_online_fill_secs": b_on.secs,
    })
}

/// The fit test: `n` clients, each one `connect`, into one engine; live bytes and RSS.
pub(crate) fn fit(n: u64) -> Value {
    let rss0 = rss_bytes();
    let mut e = StatusEngine::default();
    let f = fill(n, false, &mut e, engine_feed);
    json!({
        "clients": n,
        "online": e.count_online(None),
        "live_bytes": f.live,
        "live_bytes_per_client": per(f.live as f64, n),
        "rss_before": rss0,
        "rss_after": rss_bytes(),
        "fill_secs": f.secs,
    })
}
