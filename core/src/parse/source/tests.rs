//! Unit tests of the vendor readers: the flat reader against serde_json's on every format's
//! lines and their edge cases, the key table, how often a line is read.

use super::*;
use crate::EventType;
use alloc::string::String;

type Owned = (String, String, EventType, u64, Option<String>);

fn owned(n: Notification<'_>) -> Owned {
    (n.client_id.into(), n.channel_id.into(), n.event_type, n.time, n.client_ip.map(String::from))
}

#[test]
fn every_slot_is_read_under_its_name() {
    for (i, name) in NAMES.iter().enumerate() {
        let nested = (F::ClientSessionName as usize..=F::DisconnectionReason as usize).contains(&i);
        assert_eq!(F::of(name.as_bytes(), nested).map(|f| f as usize), Some(i), "{name}");
        assert!(F::of(name.as_bytes(), !nested).is_none(), "{name} read at the wrong level");
    }
}

const LINES: &[&str] = &[
    // AWS
    r#"{"clientId":"186b5","timestamp":1573002230757,"eventType":"connected","sessionIdentifier":"a4","principalIdentifier":"1","ipAddress":"192.0.2.0","versionNumber":0}"#,
    r#"{"clientId":"186b5","timestamp":1573002340451,"eventType":"disconnected","sessionIdentifier":"a4","clientInitiatedDisconnect":true,"disconnectReason":"CLIENT_INITIATED_DISCONNECT","versionNumber":0}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","versionNumber":-1}"#,
    r#"{"clientId":"a","timestamp":-0,"eventType":"connected","sessionIdentifier":"s"}"#,
    r#"{"clientId":"a","timestamp":1.0,"eventType":"connected","sessionIdentifier":"s"}"#,
    r#"{"clientId":"a","timestamp":1e3,"eventType":"connected","sessionIdentifier":"s"}"#,
    r#"{"clientId":"a","timestamp":1234567890123456789,"eventType":"connected","sessionIdentifier":"s"}"#,
    r#"{"clientId":"a","timestamp":01,"eventType":"connected","sessionIdentifier":"s"}"#,
    r#"{"clientId":"a\u00e9","timestamp":1,"eventType":"connected","sessionIdentifier":"s\/1"}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":[1,{"y":"\u0000"}]}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":[1,-2,{"y":[null,true,false,"z"]}],"w":{}}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":1e999}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":[1,]}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","clientId":"b"}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":1,"x":2}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s"} x"#,
    " {\"clientId\" : \"a\" ,\n\"timestamp\":1,\t\"eventType\":\"connected\",\"sessionIdentifier\":\"s\"\r} \n",
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","ipAddress":nul}"#,
    r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","ipAddress":tru}"#,
    // EMQX
    r#"{"event":"client.connected","clientid":"c","peername":"127.0.0.1:1","clean_start":true,"is_bridge":false,"connected_at":1645001077123,"conn_props":{"User-Property":{}},"timestamp":1645001077125}"#,
    r#"{"event":"client.disconnected","reason":"takenover","clientid":"c","connected_at":5,"disconnected_at":9,"disc_props":{}}"#,
    r#"{"username":"foo","ts":1625572213873,"sockport":1883,"ipaddress":"127.0.0.1","connected_at":1625572213873,"clientid":"e","clean_start":true}"#,
    r#"{"username":"foo","ts":7,"reason":"tcp_closed","ipaddress":"127.0.0.1","disconnected_at":8,"clientid":"e"}"#,
    r#"{"username":"foo","ts":7,"reason":"tcp_closed","connected_at":3,"clientid":"e"}"#,
    r#"{"clientid":"e","connected_at":3,"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
    // Azure
    r#"{"specversion":"1.0","id":"5","time":"2023-07-29T01:23:49.6454046Z","type":"Microsoft.EventGrid.MQTTClientSessionConnected","source":"/s","subject":"clients/c/sessions/s","data":{"namespaceName":"myns","clientAuthenticationName":"c","clientSessionName":"s","sequenceNumber":1}}"#,
    r#"{"id":"5","eventTime":"2023-07-29T01:23:49Z","eventType":"Microsoft.EventGrid.MQTTClientSessionDisconnected","data":{"clientSessionName":"s","sequenceNumber":2,"disconnectionReason":"ClientError"},"dataVersion":"1"}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"clientSessionName":"s","sequenceNumber":1,"clientSessionName":"t"}}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"clientSessionName":"s","sequenceNumber":1},"data":{}}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":"x","data":{}}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"data":{"clientSessionName":"s"},"clientSessionName":"s","sequenceNumber":1}}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":[]}"#,
    // SDK
    r#"{"channelId":"ch","clientId":"GID_a@@@d","clientIp":"1.2.3.4:5","statusType":"ONLINE","time":1570784240000}"#,
    r#"{"channelId":"ch","clientId":"GID_a@@@d","statusType":"OFFLINE","time":"0001570784240000"}"#,
    // none / aliyun / not JSON
    r#"{"foo":1}"#,
    r#"{"clientId":"a","channelId":"b","eventType":"connect","time":1}"#,
    r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1}}"#,
    r#"{"clientId":"a","channelId":"b","time":1,"tag":"tcpclean"}"#,
    r#"{"clientId":"a","channelId":null,"time":"0012","eventType":"disconnect","clientIp":""}"#,
    r#"{"clientId":"a","channelId":"b","time":1,"eventType":"TCPCLEAN","x":[true]}"#,
    r#"{"clientId":true,"channelId":"b","time":-1,"eventType":"connect"}"#,
    r#"{"clientId":"a","channelId":"b","time":1,"eventType":"connect","body":null}"#,
    r#"{"tag":5,"clientId":"a"}"#,
    r#"[1]"#,
    r#""#,
    r#"{"clientId":"a","#,
    // Integers read eight digits a step, and the channel id kept as the line writes it.
    r#"{"clientid":"e","connected_at":12345678,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1234567812345678,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":123456781234567812,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1234567812345678123,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":01234567,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":00000000,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":0,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1234567.5,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":12345678.5,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":12345678e1,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":-1645001077123,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1645001077123,"event":"client.disconnected","disconnected_at":16450010771239}"#,
    r#"{"clientid":"e","connected_at":1645001077123,"x":12345678/,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1645001077123,"x":1234567a,"event":"client.connected"}"#,
    r#"{"clientid":"e","connected_at":1645001077123,"x":[12345678,-12345678,1e5],"event":"client.connected"}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"clientSessionName":"s","sequenceNumber":123456789012}}"#,
    r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"clientSessionName":"s","sequenceNumber":"7"}}"#,
    // Whitespace where compact JSON has none, and non-ASCII text.
    "{ \"clientid\" :\"é\" , \"connected_at\" : 5 ,\"event\":\"client.connected\" ,\"x\" : [ 1 , { } ] }",
    "{\"clientid\":\"e\",\"connected_at\":5,\"event\":\"client.connected\",\"é\":\"ü\"}",
    "{\"clientid\":\"e\",\"connected_at\":5,\"event\":\"client.connected\"}\t",
    "{\"clientid\":\"e\",\"connected_at\":5,\"event\":\"client.connected\"}\u{a0}",
];

/// The flat read (falling back to the exact one) and the exact read alone give the same
/// answer for `line`, in every vendor source and under `auto`.
pub(super) fn agree(line: &[u8]) {
    for source in Source::ALL {
        let vendor = match source {
            Source::Aliyun => continue,
            Source::Aws => Some(Vendor::Aws),
            Source::Emqx => Some(Vendor::Emqx),
            Source::AzureMqtt => Some(Vendor::Azure),
            Source::AliyunSdk => Some(Vendor::Sdk),
            Source::Auto => None,
        };
        let fast = with_source_notification(source, line, None, 64, &mut Vec::new(), owned);
        let slow = exact(vendor, line, None, 64, &mut Vec::new(), owned);
        assert_eq!(fast, slow, "{source:?} {}", String::from_utf8_lossy(line));
    }
}

#[test]
fn the_vendor_flat_reader_agrees_with_serde_json() {
    let bad_utf8 = &b"{\"clientid\":\"e\",\"connected_at\":3,\"x\":\"\xff\"}"[..];
    for line in LINES.iter().map(|l| l.as_bytes()).chain([bad_utf8]) {
        agree(line);
    }
}

#[test]
fn the_documented_lines_are_read_flat() {
    // What brokers write takes the one-pass path: a decline here would be a silent slowdown.
    for line in &LINES[..2] {
        let mut rec = Rec::default();
        assert!(walk::read(line.as_bytes(), &mut rec).is_some(), "{line}");
    }
    for &i in &[19, 20, 21, 22, 25, 26, 32, 33] {
        let mut rec = Rec::default();
        assert!(walk::read(LINES[i].as_bytes(), &mut rec).is_some(), "{}", LINES[i]);
    }
}

#[test]
fn the_source_option_round_trips() {
    for s in Source::ALL {
        assert_eq!(Source::parse(s.as_str()), Ok(s));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, alloc::format!("\"{}\"", s.as_str()));
        assert_eq!(serde_json::from_str::<Source>(&json).unwrap(), s);
    }
    assert_eq!(Source::parse("AWS").unwrap_err().field(), Some("source"));
    assert_eq!(Source::default(), Source::Aliyun);
}

#[cfg(feature = "std")]
#[test]
fn a_vendor_line_is_read_once() {
    use super::super::raw::READS;
    // Each documented line in its own format, and under `auto`; a bare ApsaraMQ body under `auto`.
    let cases: [(&str, &[Source]); 5] = [
        (LINES[0], &[Source::Aws, Source::Auto]),
        (LINES[19], &[Source::Emqx, Source::Auto]),
        (LINES[25], &[Source::AzureMqtt, Source::Auto]),
        (LINES[32], &[Source::AliyunSdk, Source::Auto]),
        (r#"{"clientId":"a","channelId":"b","eventType":"connect","time":1}"#, &[Source::Auto]),
    ];
    for (line, sources) in cases {
        for &source in sources {
            READS.with(|c| c.set((0, 0)));
            let r = with_source_notification(source, line.as_bytes(), None, 64, &mut Vec::new(), |_| ());
            assert!(r.is_ok(), "{source:?} {line}: {r:?}");
            assert_eq!(READS.with(|c| c.get()), (1, 0), "{source:?} {line}");
        }
    }
}
