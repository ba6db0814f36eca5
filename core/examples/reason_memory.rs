//! Memory per client with close reasons (docs/BENCHMARKS.md, "Issue 18: close reasons"): live
//! heap bytes (a counting allocator) after 100 000 clients each had one connection closed with
//! a reason and opened another (one tombstone that keeps a reason, one open channel), in one
//! source's format.
//!
//! ```sh
//! cargo run --release -p mqtt-status --example reason_memory -- aws
//! ```
//!
//! Modes: `aliyun` (no reasons), `aws`, `emqx`, `azure-mqtt` (a documented code: one byte in
//! the channel), `aws-other` (a reason that is no documented code: kept as text).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use mqtt_status::{Config, Source, StatusEngine};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const CLIENTS: u64 = 100_000;

/// Client `c`'s connect (`open`) or close of session `k` at `t`, in `mode`'s format.
fn line(mode: &str, c: u64, k: u64, open: bool, t: u64) -> String {
    let sess = format!("a4666d2a7d844ae4ac5d7b38c9c{c:05}{k}");
    match mode {
        "aliyun" => format!(
            r#"{{"clientId":"GID_dev@@@d{c}","channelId":"{sess}","eventType":"{}","time":{t}}}"#,
            if open { "connect" } else { "tcpclean" }
        ),
        "aws" | "aws-other" => format!(
            r#"{{"clientId":"dev-{c}","timestamp":{t},"eventType":"{}","sessionIdentifier":"{sess}","disconnectReason":"{}"}}"#,
            if open { "connected" } else { "disconnected" },
            if open {
                ""
            } else if mode == "aws" {
                "CONNECTION_LOST"
            } else {
                "gateway restarted"
            }
        ),
        "emqx" => format!(
            r#"{{"event":"client.{}","clientid":"dev-{c}","connected_at":{},"disconnected_at":{t}{}}}"#,
            if open { "connected" } else { "disconnected" },
            1_700_000_000_000 + c * 10 + k,
            if open { "" } else { r#","reason":"keepalive_timeout""# }
        ),
        "azure-mqtt" => format!(
            r#"{{"type":"Microsoft.EventGrid.MQTTClientSession{}","time":"2023-11-14T22:13:{:02}.{:03}Z","data":{{"clientSessionName":"dev-{c}","sequenceNumber":{}{}}}}}"#,
            if open { "Connected" } else { "Disconnected" },
            t / 1000 % 60,
            t % 1000,
            k + 1,
            if open { "" } else { r#","disconnectionReason":"ClientError""# }
        ),
        _ => panic!("unknown mode {mode}"),
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "aws".into());
    let source = Source::parse(mode.strip_suffix("-other").unwrap_or(&mode)).expect("source");
    let mut engine = StatusEngine::new(Config { source, ..Config::default() }).unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    for c in 0..CLIENTS {
        let t = 1_700_000_000_000 + c;
        for (k, open, at) in [(0, true, t), (0, false, t + 1_000), (1, true, t + 2_000)] {
            engine.ingest_json(line(&mode, c, k, open, at).as_bytes(), None).expect("valid line");
        }
    }
    let live = LIVE.load(Ordering::Relaxed) - before;
    assert_eq!(engine.count_online(None), CLIENTS);
    println!("{mode}: {:.1} B per client (live heap, {CLIENTS} clients)", live as f64 / CLIENTS as f64);
}
