//! The baseline: a straightforward Rust port of the seed demo's `MemoryHashMapStoreImpl` and
//! `MqttClientStatusNoticeListener` (ApsaraMQ for MQTT docs, "Obtain the status of clients by
//! using client status notification rules").
//!
//! What it keeps, as the demo does: `clientId -> channelId -> set of events`, every string owned,
//! each body parsed into a generic JSON tree (`serde_json::Value`, the analogue of fastjson's
//! `JSONObject`). After adding an event, a channel holding both an online (`connect`) and an
//! offline (anything else) event is deleted. A client is online iff one of its channels has an
//! online event and no offline event. Envelope lines (`{"tag": …, "body": …}`, body a JSON
//! string or object) are unwrapped first, which the demo got from RocketMQ for free.

use serde_json::Value;
use std::collections::HashMap;

/// One stored notification (the demo's `ClientStatusEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Channel (TCP connection) id.
    pub channel_id: String,
    /// `ip:port`, empty when absent.
    pub client_ip: String,
    /// `connect`, `disconnect` or `tcpclean`.
    pub event_type: String,
    /// Event time, ms.
    pub time: i64,
}

impl Event {
    fn is_online_event(&self) -> bool {
        self.event_type == "connect"
    }
}

/// The demo's in-memory store.
#[derive(Debug, Default)]
pub struct Baseline {
    store: HashMap<String, HashMap<String, Vec<Event>>>,
}

fn get_string(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn get_long(v: &Value, key: &str) -> i64 {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Baseline {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes one line (a body or an envelope). Returns false if it could not be used.
    pub fn consume(&mut self, line: &[u8]) -> bool {
        let Ok(mut msg) = serde_json::from_slice::<Value>(line) else {
            return false;
        };
        // Envelope unwrapping: `{"tag": …, "body": "<json>"}` or `{"tag": …, "body": {…}}`.
        if let Some(body) = msg.get_mut("body") {
            let inner = match body.take() {
                Value::String(s) => match serde_json::from_str::<Value>(&s) {
                    Ok(v) => v,
                    Err(_) => return false,
                },
                v => v,
            };
            let tag = get_string(&msg, "tag");
            msg = inner;
            if !tag.is_empty() && get_string(&msg, "eventType").is_empty() {
                if let Value::Object(m) = &mut msg {
                    m.insert("eventType".to_string(), Value::String(tag));
                }
            }
        }
        let client_id = get_string(&msg, "clientId");
        let channel_id = get_string(&msg, "channelId");
        if client_id.is_empty() || channel_id.is_empty() {
            return false;
        }
        let event = Event {
            channel_id: channel_id.clone(),
            client_ip: get_string(&msg, "clientIp"),
            event_type: get_string(&msg, "eventType"),
            time: get_long(&msg, "time"),
        };
        self.add_event(client_id.clone(), channel_id.clone(), event);
        let events = self.store.get(&client_id).and_then(|c| c.get(&channel_id));
        let Some(events) = events else { return true };
        let online = events.iter().any(Event::is_online_event);
        let offline = events.iter().any(|e| !e.is_online_event());
        if online && offline {
            self.delete_event(&client_id, &channel_id);
        }
        true
    }

    fn add_event(&mut self, client_id: String, channel_id: String, event: Event) {
        let set = self.store.entry(client_id).or_default().entry(channel_id).or_default();
        // The demo keeps a `Set<ClientStatusEvent>`: a redelivery is stored once.
        if !set.contains(&event) {
            set.push(event);
        }
    }

    fn delete_event(&mut self, client_id: &str, channel_id: &str) {
        if let Some(channels) = self.store.get_mut(client_id) {
            channels.remove(channel_id);
        }
    }

    /// The demo's `checkClientOnline`.
    pub fn is_online(&self, client_id: &str) -> bool {
        let Some(channels) = self.store.get(client_id) else {
            return false;
        };
        channels.values().any(|events| {
            let online = events.iter().any(Event::is_online_event);
            let offline = events.iter().any(|e| !e.is_online_event());
            online && !offline
        })
    }

    /// Number of online clients (a full scan: the demo has no index).
    pub fn count_online(&self) -> usize {
        self.store.keys().filter(|c| self.is_online(c)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_logic() {
        let mut b = Baseline::new();
        assert!(b.consume(br#"{"clientId":"GID_a@@@d","channelId":"c1","eventType":"connect","time":1}"#));
        assert!(b.is_online("GID_a@@@d"));
        let close =
            br#"{"tag":"tcpclean","body":"{\"clientId\":\"GID_a@@@d\",\"channelId\":\"c1\",\"time\":2}"}"#;
        assert!(b.consume(close));
        assert!(!b.is_online("GID_a@@@d"));
        assert_eq!(b.count_online(), 0);
        assert!(!b.consume(b"{not json"));
    }
}
