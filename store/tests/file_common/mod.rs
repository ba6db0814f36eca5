//! Shared by the file store's tests: a generated notification stream, one engine to compare
//! with, child processes (the test binary itself, re-run for one test with an env var).
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Stdio};

use mqtt_status::{Config, Stats, StatusEngine, Transition};
use mqtt_status_store::StatusStore;

/// xorshift64*: a small seeded generator, so a failing seed replays.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn line(client: &str, channel: &str, event: &str, time: u64, envelope: bool, ip: Option<&str>) -> String {
    let ip = ip.map(|ip| format!(",\"clientIp\":\"{ip}\"")).unwrap_or_default();
    if envelope {
        format!(
            r#"{{"tag":"{event}","body":{{"clientId":"{client}","channelId":"{channel}","time":{time}{ip}}}}}"#
        )
    } else {
        format!(
            r#"{{"clientId":"{client}","channelId":"{channel}","eventType":"{event}","time":{time}{ip}}}"#
        )
    }
}

/// A stream of JSONL lines: flash reconnects (takeover traffic), disconnects, closes before
/// their connects, redeliveries of old lines (duplicates and late ones), a few bad lines.
pub fn stream(seed: u64, clients: u64, lines: usize) -> Vec<String> {
    stream_within(seed, clients, lines, usize::MAX)
}

/// [`stream`] with redeliveries of the last `window` lines only.
pub fn stream_within(seed: u64, clients: u64, lines: usize, window: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<String> = Vec::with_capacity(lines);
    let mut chan = vec![0u64; clients as usize];
    let mut time = 1_000u64;
    while out.len() < lines {
        time += rng.below(50);
        let c = rng.below(clients) as usize;
        let client = format!("GID_{}@@@dev{c}", c % 3);
        let roll = rng.below(100);
        if roll < 12 && !out.is_empty() {
            // A redelivery of any earlier line (duplicate, or late once compacted).
            let from = out.len().saturating_sub(window);
            let old = out[from + rng.below((out.len() - from) as u64) as usize].clone();
            out.push(old);
        } else if roll < 14 {
            out.push(if rng.chance(50) { "not json".into() } else { r#"{"clientId":"x"}"#.into() });
        } else if roll < 55 {
            // A new channel; the old one may or may not get closed (takeover traffic).
            chan[c] += 1;
            let ch = format!("{:032x}", (c as u64) << 32 | chan[c]);
            let ip = rng.chance(50).then(|| format!("10.0.{}.{}:{}", c % 250, chan[c] % 250, 1000 + chan[c]));
            out.push(line(&client, &ch, "connect", time, rng.chance(30), ip.as_deref()));
        } else {
            let ch = format!("{:032x}", (c as u64) << 32 | chan[c]);
            let event = if rng.chance(40) { "disconnect" } else { "tcpclean" };
            let l = line(&client, &ch, event, time, rng.chance(30), None);
            if rng.chance(10) && !out.is_empty() {
                // A close that overtakes an earlier line.
                let at = out.len() - 1;
                out.insert(at, l);
            } else {
                out.push(l);
            }
        }
    }
    out.truncate(lines);
    out
}

/// Every client id a stream can name.
pub fn client_ids(clients: u64) -> Vec<String> {
    (0..clients).map(|c| format!("GID_{}@@@dev{c}", c % 3)).collect()
}

/// The store's state as queries see it, ingest counters aside (they are per handle).
#[derive(Debug, PartialEq, Eq)]
pub struct View {
    pub online: Vec<String>,
    pub count: u64,
    pub groups: Vec<mqtt_status::GroupCount>,
    pub stats: Stats,
    pub clients: Vec<Option<mqtt_status::ClientStatus>>,
}

fn state_stats(s: Stats) -> Stats {
    Stats { events: 0, applied: 0, duplicates: 0, late: 0, rejected: 0, went_online: 0, went_offline: 0, ..s }
}

pub fn view_engine(e: &StatusEngine, ids: &[String]) -> View {
    View {
        online: e.online_clients(None, None, None),
        count: e.count_online(None),
        groups: e.groups(),
        stats: state_stats(e.stats()),
        clients: ids.iter().map(|id| e.client(id)).collect(),
    }
}

pub fn view_store(s: &StatusStore, ids: &[String]) -> View {
    View {
        online: s.online_clients(None, None, None).unwrap(),
        count: s.count_online(None).unwrap(),
        groups: s.groups().unwrap(),
        stats: state_stats(s.stats().unwrap()),
        clients: ids.iter().map(|id| s.client(id).unwrap()).collect(),
    }
}

/// The whole feed, oldest first, checking that cursors increase.
pub fn feed(s: &StatusStore) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut last = String::new();
    loop {
        let page = s.transitions(after.as_deref(), Some(97)).unwrap();
        if page.entries.is_empty() {
            return out;
        }
        for e in page.entries {
            assert!(e.cursor > last, "cursors increase: {} after {last}", e.cursor);
            last = e.cursor.clone();
            out.push(e.transition);
        }
        after = Some(page.next);
    }
}

/// One engine fed `lines` as one batch; its transitions.
pub fn engine_of(config: Config, lines: &[String]) -> (StatusEngine, Vec<Transition>) {
    let mut e = StatusEngine::new(config).unwrap();
    let report = e.ingest_many(lines.join("\n").as_bytes());
    (e, report.transitions.to_vec())
}

pub fn url(dir: &Path, query: &str) -> String {
    format!("file:{}{query}", dir.display())
}

/// Runs this test binary's test `name` as a child with `env` set (the child test does its work
/// only when `MQTT_STATUS_TEST_CHILD` is set).
pub fn child(name: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    cmd.env("MQTT_STATUS_TEST_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    cmd
}

pub fn is_child() -> bool {
    std::env::var_os("MQTT_STATUS_TEST_CHILD").is_some()
}

/// A short account of where two views differ (the full views are too long to read).
pub fn diff(a: &View, b: &View) -> String {
    let mut out = Vec::new();
    if a.online != b.online {
        out.push(format!("online {:?} vs {:?}", a.online.len(), b.online.len()));
    }
    if a.stats != b.stats {
        out.push(format!("stats {:?} vs {:?}", a.stats, b.stats));
    }
    for (x, y) in a.clients.iter().zip(&b.clients) {
        if x != y {
            out.push(format!("client {x:?}\n   vs {y:?}"));
            break;
        }
    }
    out.join("\n")
}
