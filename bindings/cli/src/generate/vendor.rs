//! Lines in the other brokers' formats (`generate --source`, docs/sources.md), written as each
//! vendor's documentation shows them, every field included, from the same fleet as the
//! ApsaraMQ lines.
//!
//! The vendors report a connection's open and its close, nothing in between: the fleet's
//! `disconnect` (ApsaraMQ's goodbye before the close) is not written; its `tcpclean` is the
//! vendor's disconnected event, with the vendor's reason for how the session ended.

use std::fmt::Write as _;

use mqtt_status::{EventType, Source};

use super::model::{Channel, End, Event};
use crate::timefmt::format_time;

/// The format a client's lines are written in: `auto` spreads clients over every format (a
/// client lives on one broker, so all its lines share one).
pub fn format_of(source: Source, client: u32) -> Source {
    if source != Source::Auto {
        return source;
    }
    const ALL: [Source; 5] =
        [Source::Aliyun, Source::Aws, Source::Emqx, Source::AzureMqtt, Source::AliyunSdk];
    ALL[client as usize % ALL.len()]
}

/// Whether an event is written in `format` (vendors have no separate goodbye).
pub fn written(format: Source, e: &Event) -> bool {
    format == Source::Aliyun || e.kind != EventType::Disconnect
}

/// What a malformed line gets wrong (the ApsaraMQ variants' vendor counterparts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A well-formed line.
    None,
    /// Cut short (a partial write).
    Cut,
    /// No client id.
    NoClient,
    /// An event type the format does not know.
    BadType,
    /// A time that is not one.
    BadTime,
    /// An empty (or, for numbers, mistyped) connection id.
    BadChannel,
}

impl Fault {
    /// The fault of ApsaraMQ variant `v` (`emit::render`).
    pub fn of_variant(v: u8) -> Fault {
        match v {
            0 => Fault::Cut,
            1 => Fault::NoClient,
            2 | 4 => Fault::BadType,
            3 => Fault::BadTime,
            _ => Fault::BadChannel,
        }
    }
}

/// A JSON object under construction: its members as written, in order.
#[derive(Default)]
struct Obj(Vec<(&'static str, String)>);

impl Obj {
    fn s(&mut self, k: &'static str, v: &str) -> &mut Self {
        self.0.push((k, format!("\"{v}\"")));
        self
    }
    fn raw(&mut self, k: &'static str, v: impl ToString) -> &mut Self {
        self.0.push((k, v.to_string()));
        self
    }
    /// Replaces `k`'s value, or adds it.
    fn set(&mut self, k: &'static str, v: &str) {
        match self.0.iter_mut().find(|(n, _)| *n == k) {
            Some(m) => m.1 = v.to_string(),
            None => self.0.push((k, v.to_string())),
        }
    }
    fn remove(&mut self, k: &'static str) {
        self.0.retain(|(n, _)| *n != k);
    }
    fn json(&self) -> String {
        let mut s = String::with_capacity(512);
        s.push('{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "\"{k}\":{v}");
        }
        s.push('}');
        s
    }
}

/// The names a format gives the fields a fault touches.
struct Keys {
    client: &'static str,
    channel: &'static str,
    event: &'static str,
    time: &'static str,
    /// A bad time: a negative number, or a string that is no time.
    bad_time: &'static str,
    /// Whether client and channel are inside `data` (Azure).
    in_data: bool,
}

/// What a line is about.
pub struct Line<'a> {
    /// The event.
    pub e: &'a Event,
    /// Its channel.
    pub ch: &'a Channel,
    /// Its client's id.
    pub client: &'a str,
}

fn uuid(id: &[u8; 16]) -> String {
    let h: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn hex(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3339 with Azure's seven fraction digits.
fn azure_time(ms: u64) -> String {
    let t = format_time(ms);
    format!("{}0000Z", &t[..t.len() - 1])
}

/// Renders `l` in vendor `format` (not `aliyun`), with `fault`.
pub fn render(format: Source, l: &Line<'_>, fault: Fault) -> String {
    let (mut top, mut data, keys) = match format {
        Source::Aws => aws(l),
        Source::Emqx => emqx(l),
        Source::AzureMqtt => azure(l),
        _ => sdk(l),
    };
    // Azure keeps client and channel inside `data`; everything else is top level.
    let obj = if keys.in_data { &mut data } else { &mut top };
    match fault {
        Fault::None | Fault::Cut => {}
        Fault::NoClient => obj.remove(keys.client),
        Fault::BadChannel => obj.set(keys.channel, "\"\""),
        Fault::BadType => top.set(keys.event, "\"reconnected\""),
        Fault::BadTime => top.set(keys.time, keys.bad_time),
    }
    if keys.in_data {
        top.set("data", &data.json());
    }
    let line = top.json();
    if fault == Fault::Cut {
        // Any proper prefix of an object is invalid JSON.
        return line[..line.len() / 2].to_string();
    }
    line
}

fn ip(ch: &Channel) -> String {
    let [a, b, c, d] = ch.ip;
    format!("{a}.{b}.{c}.{d}")
}

/// AWS IoT Core lifecycle events (developer guide, "Lifecycle events").
fn aws(l: &Line<'_>) -> (Obj, Obj, Keys) {
    let mut o = Obj::default();
    let connect = l.e.kind == EventType::Connect;
    o.s("clientId", l.client).raw("timestamp", l.e.time);
    o.s("eventType", if connect { "connected" } else { "disconnected" });
    o.s("sessionIdentifier", &uuid(&l.ch.id)).s("principalIdentifier", "12345678901234567890123456789012");
    if !connect {
        let (initiated, reason) = match l.e.end {
            End::Graceful => (true, "CLIENT_INITIATED_DISCONNECT"),
            End::Takeover => (false, "DUPLICATE_CLIENTID"),
            _ => (false, "MQTT_KEEP_ALIVE_TIMEOUT"),
        };
        o.raw("clientInitiatedDisconnect", initiated).s("disconnectReason", reason);
    }
    o.s("ipAddress", &ip(l.ch)).raw("versionNumber", 2 * u64::from(l.ch.seq) - u64::from(connect));
    let keys = Keys {
        client: "clientId",
        channel: "sessionIdentifier",
        event: "eventType",
        time: "timestamp",
        bad_time: "-1",
        in_data: false,
    };
    (o, Obj::default(), keys)
}

/// EMQX rule-engine events (formats 0 and 1 of the event's style) and `$SYS` messages (2).
fn emqx(l: &Line<'_>) -> (Obj, Obj, Keys) {
    let mut o = Obj::default();
    let connect = l.e.kind == EventType::Connect;
    let peer = format!("{}:{}", ip(l.ch), l.ch.port);
    let reason = match l.e.end {
        End::Graceful => "normal",
        End::Takeover => "takenover",
        _ => "keepalive_timeout",
    };
    let sys = l.e.style & 3 == 2;
    if sys {
        o.s("username", "device").raw("ts", l.e.time).raw("sockport", 1883);
        if !connect {
            o.s("reason", reason);
        }
        o.raw("proto_ver", 4).s("proto_name", "MQTT").s("ipaddress", &ip(l.ch));
        if connect {
            o.raw("keepalive", 60).raw("expiry_interval", 0).raw("connack", 0).raw("clean_start", true);
        } else {
            o.raw("disconnected_at", l.e.time);
        }
        o.raw("connected_at", l.ch.opened).s("clientid", l.client);
    } else if connect {
        o.s("username", "device")
            .raw("timestamp", l.e.time)
            .s("sockname", "0.0.0.0:1883")
            .raw("receive_maximum", 32);
        o.s("proto_name", "MQTT").raw("proto_ver", 5).s("peername", &peer).s("node", "emqx@127.0.0.1");
        o.s("mountpoint", "undefined").raw("keepalive", 60).raw("is_bridge", false);
        o.raw("expiry_interval", 0).s("event", "client.connected").raw("connected_at", l.ch.opened);
        o.raw("conn_props", r#"{"User-Property":{},"Request-Problem-Information":1}"#);
        o.s("clientid", l.client).raw("clean_start", true);
    } else {
        o.s("username", "device").raw("timestamp", l.e.time).s("sockname", "0.0.0.0:1883");
        o.s("reason", reason).s("proto_name", "MQTT").raw("proto_ver", 5).s("peername", &peer);
        o.s("node", "emqx@127.0.0.1").s("event", "client.disconnected");
        o.raw("disconnected_at", l.e.time).raw("disconn_props", r#"{"User-Property":{}}"#);
        o.raw("connected_at", l.ch.opened).s("clientid", l.client);
    }
    // A `$SYS` message has no `event`: its bad type is one added (`Obj::set` adds a missing key).
    let keys = Keys {
        client: "clientid",
        channel: "connected_at",
        event: "event",
        time: if connect { "connected_at" } else { "disconnected_at" },
        bad_time: "-1",
        in_data: false,
    };
    (o, Obj::default(), keys)
}

/// Azure Event Grid MQTT broker events: CloudEvents (formats 0, 1) or the Event Grid schema (2).
fn azure(l: &Line<'_>) -> (Obj, Obj, Keys) {
    let connect = l.e.kind == EventType::Connect;
    let ty = if connect {
        "Microsoft.EventGrid.MQTTClientSessionConnected"
    } else {
        "Microsoft.EventGrid.MQTTClientSessionDisconnected"
    };
    let ns = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myrg/providers/Microsoft.EventGrid/namespaces/myns";
    let subject = format!("clients/{}/sessions/{}", l.client, l.client);
    let mut id = l.ch.id;
    id[15] ^= u8::from(connect); // each event has its own id
    let mut data = Obj::default();
    data.s("namespaceName", "myns").s("clientAuthenticationName", l.client);
    data.s("clientSessionName", l.client).raw("sequenceNumber", l.ch.seq);
    if !connect {
        let reason = match l.e.end {
            End::Graceful => "ClientInitiatedDisconnect",
            End::Takeover => "SessionTakenOver",
            _ => "ConnectionLost",
        };
        data.s("disconnectionReason", reason);
    }
    let mut o = Obj::default();
    let event_grid = l.e.style & 3 == 2;
    let (event, time) = if event_grid {
        o.s("id", &uuid(&id)).s("topic", ns).s("subject", &subject).s("eventType", ty);
        o.s("eventTime", &azure_time(l.e.time)).raw("data", "{}");
        o.s("dataVersion", "1").s("metadataVersion", "1");
        ("eventType", "eventTime")
    } else {
        o.s("specversion", "1.0").s("id", &uuid(&id)).s("time", &azure_time(l.e.time)).s("type", ty);
        o.s("source", ns).s("subject", &subject).raw("data", "{}");
        ("type", "time")
    };
    let keys = Keys {
        client: "clientSessionName",
        channel: "sequenceNumber",
        event,
        time,
        bad_time: "\"yesterday\"",
        in_data: true,
    };
    (o, data, keys)
}

/// The ApsaraMQ cloud SDK's `StatusNotice`; style bit 2 writes `time` as a string of digits.
fn sdk(l: &Line<'_>) -> (Obj, Obj, Keys) {
    let mut o = Obj::default();
    let status = if l.e.kind == EventType::Connect { "ONLINE" } else { "OFFLINE" };
    o.s("clientId", l.client).s("channelId", &hex(&l.ch.id));
    o.s("clientIp", &format!("{}:{}", ip(l.ch), l.ch.port)).s("statusType", status);
    if l.e.style & 4 != 0 {
        o.s("time", &l.e.time.to_string());
    } else {
        o.raw("time", l.e.time);
    }
    let keys = Keys {
        client: "clientId",
        channel: "channelId",
        event: "statusType",
        time: "time",
        bad_time: "-1",
        in_data: false,
    };
    (o, Obj::default(), keys)
}
