//! The simulated fleet: every client's sessions in event time, and the ground truth they imply.
//!
//! A client lives through a sequence of sessions, each on a fresh channel (a new TCP
//! connection). A session ends in one of three ways:
//!
//! - **graceful**: `disconnect`, then `tcpclean` a few milliseconds later;
//! - **abrupt**: the device vanishes; the broker's keepalive notices and sends `tcpclean` only,
//!   60–180 s later;
//! - **flash reconnect**: the next session's `connect` comes first, and the old channel's
//!   `tcpclean` 20 ms–2 s after it (the broker kicking the old connection, as under takeover).
//!
//! With `--flap P`, a fraction P of the graceful and abrupt ends is a **flap**: the device is
//! back 1–20 s after the `tcpclean`, a short offline/online pair (shorter than a 30 s grace).
//!
//! Every session except perhaps the last is closed by a `tcpclean`; a client's last session is
//! left open for a fraction `online` of clients. So the truth — online iff the last session is
//! still open — is the same under every policy of the engine (see `docs/cli.md`).

use mqtt_status::EventType;

use super::rng::Rng;

/// Group names handed out to clients (`--groups N` uses the first N).
pub const GROUPS: [&str; 12] = [
    "GID_meter",
    "GID_lamp",
    "GID_gateway",
    "GID_tracker",
    "GID_sensor",
    "GID_charger",
    "GID_camera",
    "GID_lock",
    "GID_thermostat",
    "GID_plug",
    "GID_valve",
    "GID_beacon",
];

/// Shortest session: at least 10 s, and at least twice the delivery jitter, so that fewer than
/// three channels of a client overlap any jitter window (this keeps reordering within the
/// engine's tombstone bound; see `docs/cli.md`).
pub fn min_session(jitter: u64) -> u64 {
    (2 * jitter).max(10_000)
}

/// The simulation's knobs (validated by the caller).
#[derive(Debug, Clone, Copy)]
pub struct FleetParams {
    /// Number of clients.
    pub clients: u32,
    /// Events per client, drawn per client in `lo..=hi`.
    pub events: (u32, u32),
    /// Number of groups (1..=12).
    pub groups: u32,
    /// Fraction of clients whose last session stays open.
    pub online: f64,
    /// Fraction of (non-last, not flash) session ends followed by a reconnect within 1–20 s.
    pub flap: f64,
    /// Delivery jitter in ms (only bounds the session length here).
    pub jitter: u64,
    /// Time of the earliest possible connect.
    pub start: u64,
}

/// One channel (TCP connection).
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    /// 16 random bytes, written as 32 hex digits.
    pub id: [u8; 16],
    /// The client's IPv4 address for this connection.
    pub ip: [u8; 4],
    /// The client's source port.
    pub port: u16,
    /// Index of its client.
    pub client: u32,
    /// Its connect's time (EMQX names a connection by it: `connected_at`).
    pub opened: u64,
    /// Its place among its client's connections, from 1 (Azure's `sequenceNumber`).
    pub seq: u32,
}

/// Why a connection's close happened (the reason vendor formats write; ApsaraMQ has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Not a close (a connect, or ApsaraMQ's `disconnect` before the close).
    None,
    /// The client said goodbye (`disconnect`, then `tcpclean`).
    Graceful,
    /// The device vanished; the broker's keepalive noticed.
    Keepalive,
    /// The client's next connection took over (flash reconnect).
    Takeover,
}

/// One notification as emitted by the broker.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// Event time, ms.
    pub time: u64,
    /// Index of its channel.
    pub channel: u32,
    /// What happened.
    pub kind: EventType,
    /// How its line is written (see `emit`): bits 0–1 the format, bit 2 time as a string.
    pub style: u8,
    /// For a close, why.
    pub end: End,
}

/// The simulated fleet.
#[derive(Debug, Default)]
pub struct Fleet {
    /// `GID_x@@@devNNNNNN` per client.
    pub client_ids: Vec<String>,
    /// Every channel.
    pub channels: Vec<Channel>,
    /// Every original event (no duplicates), client by client in time order.
    pub events: Vec<Event>,
    /// Per client: whether its last session is still open at the end.
    pub online: Vec<bool>,
}

fn random_ip(rng: &mut Rng) -> [u8; 4] {
    let first = loop {
        let a = rng.range(1, 223) as u8;
        if a != 10 && a != 127 {
            break a;
        }
    };
    [first, rng.range(0, 255) as u8, rng.range(0, 255) as u8, rng.range(1, 254) as u8]
}

fn style(rng: &mut Rng) -> u8 {
    let format = match rng.range(0, 99) {
        0..=69 => 0,  // envelope, body as a JSON string (a RocketMQ message dump)
        70..=84 => 1, // envelope, body as an object
        _ => 2,       // bare body
    };
    format | if rng.chance(0.05) { 4 } else { 0 }
}

fn push(fleet: &mut Fleet, rng: &mut Rng, time: u64, channel: u32, kind: EventType, end: End) {
    fleet.events.push(Event { time, channel, kind, style: style(rng), end });
}

fn device_ids(rng: &mut Rng, p: &FleetParams) -> Vec<String> {
    let wide = p.clients > 1 << 20;
    let mut seen = std::collections::HashSet::with_capacity(p.clients as usize);
    (0..p.clients)
        .map(|_| {
            let group = GROUPS[rng.range(0, u64::from(p.groups) - 1) as usize];
            loop {
                let n = rng.next_u64() as u32;
                let n = if wide { n } else { n & 0xff_ffff };
                if seen.insert(n) {
                    break if wide {
                        format!("{group}@@@dev{n:08x}")
                    } else {
                        format!("{group}@@@dev{n:06x}")
                    };
                }
            }
        })
        .collect()
}

/// The offline time before the next session: 1–20 s for a flap (a fraction `flap` of them),
/// else 2 s to 2 h. With no flaps no extra number is drawn, so the output is what it was before
/// `--flap` existed.
fn gap(rng: &mut Rng, flap: f64) -> u64 {
    if flap > 0.0 && rng.chance(flap) {
        rng.range(1_000, 20_000)
    } else {
        rng.log_uniform(2_000, 2 * 3_600_000)
    }
}

/// Simulates the fleet.
pub fn simulate(rng: &mut Rng, p: &FleetParams) -> Fleet {
    let mut fleet = Fleet { client_ids: device_ids(rng, p), ..Fleet::default() };
    let min = min_session(p.jitter);
    let max = min.max(4 * 3_600_000);
    for client in 0..p.clients {
        let target = u64::from(p.events.0) + rng.range(0, u64::from(p.events.1 - p.events.0));
        let ends_online = rng.chance(p.online);
        let mut ip = random_ip(rng);
        let mut t = p.start + rng.range(0, 600_000);
        let mut used = 0u64;
        let mut seq = 0u32;
        let online = loop {
            seq += 1;
            let ch = fleet.channels.len() as u32;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            id[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            let port = rng.range(1024, 65535) as u16;
            fleet.channels.push(Channel { id, ip, port, client, opened: t, seq });
            push(&mut fleet, rng, t, ch, EventType::Connect, End::None);
            used += 1;
            let end = t + rng.log_uniform(min, max);
            // No room for another session after closing this one: it is the last.
            let last = used + 2 >= target;
            if last && ends_online {
                break true;
            }
            match if last { rng.range(0, 79) } else { rng.range(0, 99) } {
                0..=44 => {
                    let close = end + rng.range(1, 300);
                    push(&mut fleet, rng, end, ch, EventType::Disconnect, End::None);
                    push(&mut fleet, rng, close, ch, EventType::TcpClean, End::Graceful);
                    used += 2;
                    t = close + gap(rng, p.flap);
                }
                45..=79 => {
                    let close = end + rng.range(60_000, 180_000);
                    push(&mut fleet, rng, close, ch, EventType::TcpClean, End::Keepalive);
                    used += 1;
                    t = close + gap(rng, p.flap);
                }
                _ => {
                    // Flash reconnect: the next connect (at `end`) precedes this tcpclean.
                    let close = end + rng.range(20, 2_000);
                    push(&mut fleet, rng, close, ch, EventType::TcpClean, End::Takeover);
                    used += 1;
                    t = end;
                }
            }
            if last {
                break false;
            }
            if rng.chance(0.2) {
                ip = random_ip(rng);
            }
        };
        fleet.online.push(online);
    }
    fleet
}
