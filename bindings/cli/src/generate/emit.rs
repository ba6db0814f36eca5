//! Delivery: when each notification reaches the consumer (jitter, redeliveries, malformed
//! extras) and how its line is written.

use std::fmt::Write as _;
use std::io::{self, Write};

use mqtt_status::{EventType, Source};

use super::model::{Event, Fleet};
use super::rng::Rng;
use super::vendor::{self, Fault};

/// RocketMQ's retry delays in seconds (levels 1–16: 10 s … 2 h, about 4 h 46 min in all).
const RETRY_DELAYS_S: [u64; 16] =
    [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200];

/// What a line of the log carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// An event's first delivery.
    Original(u32),
    /// A redelivery of an event (same bytes).
    Duplicate(u32),
    /// A malformed line about an event's channel (variant 0..6), rejected by the engine.
    Invalid(u32, u8),
}

/// One line to write, at its delivery time.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// When the consumer receives it, ms.
    pub at: u64,
    /// What it carries.
    pub item: Item,
}

/// Delivery knobs.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryParams {
    /// Each original is delivered `0..=jitter` ms after its event time.
    pub jitter: u64,
    /// Probability that an event is redelivered once more.
    pub duplicates: f64,
    /// Probability of a malformed line next to an event.
    pub invalid: f64,
}

/// A redelivery delay: mostly within a minute, a quarter on RocketMQ's retry schedule (up to
/// about 4 h 46 min later).
fn redelivery_delay(rng: &mut Rng) -> u64 {
    if rng.chance(0.75) {
        rng.range(1_000, 60_000)
    } else {
        let level = rng.range(1, 16) as usize;
        RETRY_DELAYS_S[..level].iter().sum::<u64>() * 1000 + rng.range(0, 999)
    }
}

/// Every line of the log in `source`'s formats, sorted by delivery time (ties keep generation
/// order). Events a format does not write (a vendor's goodbye) get no line.
pub fn schedule(rng: &mut Rng, fleet: &Fleet, p: &DeliveryParams, source: Source) -> Vec<Delivery> {
    let mut out = Vec::with_capacity(fleet.events.len() * (1 + (p.duplicates > 0.0) as usize));
    for (i, e) in fleet.events.iter().enumerate() {
        let client = fleet.channels[e.channel as usize].client;
        if !vendor::written(vendor::format_of(source, client), e) {
            continue;
        }
        let i = i as u32;
        let at = e.time + rng.range(0, p.jitter);
        out.push(Delivery { at, item: Item::Original(i) });
        if rng.chance(p.duplicates) {
            out.push(Delivery { at: at + redelivery_delay(rng), item: Item::Duplicate(i) });
        }
        if rng.chance(p.invalid) {
            let variant = rng.range(0, 5) as u8;
            out.push(Delivery { at: e.time + rng.range(0, p.jitter), item: Item::Invalid(i, variant) });
        }
    }
    out.sort_by_key(|d| d.at); // stable: equal times keep generation order
    out
}

fn hex(id: &[u8; 16]) -> String {
    id.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Field values of a body; `None` leaves a field out.
struct Body<'a> {
    client_id: Option<&'a str>,
    channel_id: String,
    client_ip: String,
    event_type: &'a str,
    time: String,
}

impl Body<'_> {
    fn json(&self) -> String {
        let mut s = String::with_capacity(160);
        s.push('{');
        if let Some(c) = self.client_id {
            let _ = write!(s, r#""clientId":"{c}","#);
        }
        let _ = write!(
            s,
            r#""channelId":"{}","clientIp":"{}","eventType":"{}","time":{}}}"#,
            self.channel_id, self.client_ip, self.event_type, self.time
        );
        s
    }
}

/// Writes a body as a line in `format` (0 envelope with a string body, 1 envelope with an
/// object body, 2 bare body).
fn line(format: u8, tag: &str, body: &str) -> String {
    match format {
        0 => format!(r#"{{"tag":"{tag}","body":"{}"}}"#, body.replace('"', "\\\"")),
        1 => format!(r#"{{"tag":"{tag}","body":{body}}}"#),
        _ => body.to_string(),
    }
}

/// Renders one log line (without the newline) in `source`'s format for its client.
pub fn render(fleet: &Fleet, item: Item, source: Source) -> String {
    let (Item::Original(i) | Item::Duplicate(i) | Item::Invalid(i, _)) = item;
    let e: &Event = &fleet.events[i as usize];
    let ch = &fleet.channels[e.channel as usize];
    let format = vendor::format_of(source, ch.client);
    if format != Source::Aliyun {
        let line = vendor::Line { e, ch, client: &fleet.client_ids[ch.client as usize] };
        let fault = match item {
            Item::Invalid(_, v) => Fault::of_variant(v),
            _ => Fault::None,
        };
        return vendor::render(format, &line, fault);
    }
    let [a, b, c, d] = ch.ip;
    let time = if e.style & 4 != 0 { format!("\"{}\"", e.time) } else { e.time.to_string() };
    let mut body = Body {
        client_id: Some(&fleet.client_ids[ch.client as usize]),
        channel_id: hex(&ch.id),
        client_ip: format!("{a}.{b}.{c}.{d}:{}", ch.port),
        event_type: e.kind.as_str(),
        time,
    };
    let tag = e.kind.as_str();
    let Item::Invalid(_, variant) = item else {
        return line(e.style & 3, tag, &body.json());
    };
    match variant {
        // Cut short: a partial write. Any proper prefix of an object is invalid JSON.
        0 => {
            let full = line(e.style & 3, tag, &body.json());
            full[..full.len() / 2].to_string()
        }
        1 => {
            body.client_id = None;
            line(2, tag, &body.json())
        }
        2 => {
            let other = if e.kind == EventType::Connect { "tcpclean" } else { "connect" };
            line(0, other, &body.json())
        }
        3 => {
            body.time = "-1".to_string();
            line(1, tag, &body.json())
        }
        4 => {
            body.event_type = "reconnect";
            line(2, tag, &body.json())
        }
        _ => {
            body.channel_id = String::new();
            line(0, tag, &body.json())
        }
    }
}

/// Writes every delivery as one line.
pub fn write_log(
    out: &mut impl Write,
    fleet: &Fleet,
    deliveries: &[Delivery],
    source: Source,
) -> io::Result<()> {
    for d in deliveries {
        out.write_all(render(fleet, d.item, source).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
