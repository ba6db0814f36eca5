//! The order and duplicate laws per source (SPEC §10): for random event sets written in each
//! vendor's format, any permutation with duplicates gives the same state, and that state is the
//! one the same events give written as ApsaraMQ notifications (a vendor's reader changes how a
//! line is read, never how it is judged).
//!
//! Cases: 256 each by default (`PROPTEST_CASES=…` for more).

use mqtt_status::{Config, Source, StatusEngine};
use proptest::prelude::*;
use serde_json::json;

/// One connection of a client: its session index, and whether (and how long after) it closed.
#[derive(Debug, Clone)]
struct Session {
    client: u8,
    index: u8,
    close_after: Option<u64>,
}

/// Azure's times are RFC 3339: every generated time is within a minute of this instant.
const AZURE_EPOCH: u64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

impl Session {
    fn client_id(&self) -> String {
        format!("GID_dev@@@d{}", self.client)
    }
    /// Distinct per client and session, so an EMQX `connected_at` names one connection.
    fn connect_time(&self) -> u64 {
        1_000 + 1_000 * u64::from(self.index) + u64::from(self.client)
    }
    /// The lines of this session in `source`'s format (connect first, then the close).
    fn lines(&self, source: Source) -> Vec<String> {
        let mut out = vec![self.line(source, true, self.connect_time())];
        if let Some(d) = self.close_after {
            out.push(self.line(source, false, self.connect_time() + d));
        }
        out
    }
    fn line(&self, source: Source, connect: bool, t: u64) -> String {
        let (cid, k) = (self.client_id(), self.index);
        let v = match source {
            Source::Aliyun => json!({"clientId": cid, "channelId": self.channel(source),
                "eventType": if connect { "connect" } else { "tcpclean" }, "time": t}),
            Source::Aws => json!({"clientId": cid, "timestamp": t,
                "eventType": if connect { "connected" } else { "disconnected" },
                "sessionIdentifier": self.channel(source), "principalIdentifier": "p", "versionNumber": k,
                "disconnectReason": if connect { None } else { reason(source) }}),
            Source::Emqx if connect => json!({"event": "client.connected", "clientid": cid,
                "connected_at": t, "peername": "10.0.0.1:1", "clean_start": true, "timestamp": t}),
            Source::Emqx => json!({"event": "client.disconnected", "clientid": cid, "reason": "takenover",
                "connected_at": self.connect_time(), "disconnected_at": t, "timestamp": t}),
            Source::AzureMqtt => json!({"specversion": "1.0", "time": rfc3339(t),
                "type": if connect { "Microsoft.EventGrid.MQTTClientSessionConnected" }
                        else { "Microsoft.EventGrid.MQTTClientSessionDisconnected" },
                "data": {"clientSessionName": cid, "sequenceNumber": k + 1, "namespaceName": "ns",
                         "disconnectionReason": if connect { None } else { reason(source) }}}),
            Source::AliyunSdk => json!({"channelId": self.channel(source), "clientId": cid,
                "statusType": if connect { "ONLINE" } else { "OFFLINE" }, "time": t}),
            Source::Auto => unreachable!("auto reads the other formats"),
        };
        v.to_string()
    }
    /// The channel the source's reader names (what the ApsaraMQ equivalent must use).
    fn channel(&self, source: Source) -> String {
        match source {
            Source::Emqx => self.connect_time().to_string(),
            Source::AzureMqtt => (self.index + 1).to_string(),
            _ => format!("session-{}-{}", self.client, self.index),
        }
    }
    /// The same session as ApsaraMQ notifications, with `source`'s channel names and times,
    /// each with the reason its vendor line carries (ApsaraMQ's JSON has none: the reference
    /// engine takes it as a `Notification`).
    fn aliyun_lines(&self, source: Source) -> Vec<(String, Option<&'static str>)> {
        let time = |t: u64| if source == Source::AzureMqtt { AZURE_EPOCH + t } else { t };
        let line = |connect: bool, t: u64| {
            let mut v = json!({"clientId": self.client_id(), "channelId": self.channel(source),
                "eventType": if connect { "connect" } else { "tcpclean" }, "time": time(t)});
            if connect && source == Source::Emqx {
                v["clientIp"] = "10.0.0.1:1".into(); // EMQX's peername
            }
            (v.to_string(), if connect { None } else { reason(source) })
        };
        let mut out = vec![line(true, self.connect_time())];
        if let Some(d) = self.close_after {
            out.push(line(false, self.connect_time() + d));
        }
        out
    }
}

/// The reason a source's close carries here (the generator's takeover codes; none for the SDK).
fn reason(source: Source) -> Option<&'static str> {
    match source {
        Source::Aws => Some("DUPLICATE_CLIENTID"),
        Source::Emqx => Some("takenover"),
        Source::AzureMqtt => Some("SessionTakenOver"),
        _ => None,
    }
}

fn rfc3339(t: u64) -> String {
    format!("2024-01-01T00:00:{:02}.{:03}Z", t / 1000, t % 1000)
}

fn sessions() -> impl Strategy<Value = Vec<Session>> {
    proptest::collection::btree_set((0..3u8, 0..5u8), 1..10).prop_flat_map(|keys| {
        let n = keys.len();
        (Just(keys), proptest::collection::vec(proptest::option::of(0..1_500u64), n)).prop_map(
            |(keys, closes)| {
                keys.into_iter()
                    .zip(closes)
                    .map(|((client, index), close_after)| Session { client, index, close_after })
                    .collect()
            },
        )
    })
}

const VENDORS: [Source; 4] = [Source::Aws, Source::Emqx, Source::AzureMqtt, Source::AliyunSdk];

fn run(config: Config, lines: &[String]) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    let report = e.ingest_many(lines.join("\n").as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    e
}

/// The state without the ingest counters (and without the source, which is not state).
fn state(e: &StatusEngine) -> Vec<u8> {
    let mut fresh = StatusEngine::new(Config { source: Source::Aliyun, ..*e.config() }).unwrap();
    fresh.merge(e).unwrap();
    fresh.snapshot()
}

proptest! {
    #[test]
    fn each_source_is_order_and_duplicate_free(
        (sessions, order, dups) in sessions().prop_flat_map(|s| {
            let lines = s.iter().map(|x| 1 + usize::from(x.close_after.is_some())).sum::<usize>();
            (Just(s), Just((0..lines).collect::<Vec<_>>()).prop_shuffle(),
             proptest::collection::vec(0..lines, 0..6))
        }),
        takeover in any::<bool>(),
        source_index in 0..VENDORS.len(),
    ) {
        let source = VENDORS[source_index];
        let config = Config { source, takeover, ..Config::default() };
        let lines: Vec<String> = sessions.iter().flat_map(|s| s.lines(source)).collect();
        let mixed: Vec<String> =
            order.iter().chain(dups.iter()).map(|&i| lines[i].clone()).collect();
        let (a, b) = (run(config, &lines), run(config, &mixed));
        prop_assert_eq!(state(&a), state(&b));
        // The same judgment as the ApsaraMQ notifications of the same events.
        let mut c = StatusEngine::new(Config { source: Source::Aliyun, ..config }).unwrap();
        for (line, reason) in sessions.iter().flat_map(|s| s.aliyun_lines(source)) {
            mqtt_status::with_notification(line.as_bytes(), None, 256, |n| {
                c.ingest(mqtt_status::Notification { reason, ..n }).unwrap();
            })
            .unwrap();
        }
        prop_assert_eq!(state(&a), state(&c));
        // And `auto` reads every vendor's lines the same way.
        let d = run(Config { source: Source::Auto, ..config }, &mixed);
        prop_assert_eq!(state(&a), state(&d));
    }
}
