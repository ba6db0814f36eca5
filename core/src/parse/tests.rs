//! Unit tests of the parser (the fast paths against the general one, edge cases).

use super::fast::{find_byte, find_special, flat_in, unescape};
use super::*;
use alloc::string::ToString;

type Owned = (String, String, EventType, u64, Option<String>);

fn owned(n: Notification<'_>) -> Owned {
    (n.client_id.into(), n.channel_id.into(), n.event_type, n.time, n.client_ip.map(String::from))
}

fn both(line: &[u8], tag: Option<&str>) -> (Result<Owned, Error>, Result<Owned, Error>) {
    let fast = with_notification_in(line, tag, 64, &mut Vec::new(), owned);
    // The reference: keys read as checked strings, no fast path.
    let slow = decode(line, true).and_then(|raw| finish(&raw, tag, 64, owned));
    (fast, slow)
}

#[test]
fn the_fast_envelope_path_agrees_with_the_general_one() {
    let bodies = [
        r#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":5,"clientIp":"1.2.3.4:5"}"#,
        r#"{"clientId":"GID_a@@@d1","channelId":"c1","time":"0005"}"#,
        r#"{"clientId":"G\u00e9@@@\ud83d\ude00","channelId":"c\/1\t","time":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"x":[1,{"y":"\u0000"}]}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"tag":"tcpclean"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"eventType":"tcpclean"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"body":{}}"#,
        r#"{"clientId":"\ud800","channelId":"b","time":1}"#,
        r#"{"clientId":"\udc00","channelId":"b","time":1}"#,
        r#"{"clientId":"\ud83dx","channelId":"b","time":1}"#,
        r#"{"clientId":"\ud83d\u0041","channelId":"b","time":1}"#,
        r#"{"clientId":"","channelId":"b","time":1}"#,
        r#"{"clientId":"a","channelId":"b","time":-1}"#,
        r#"{"clientId":"a","channelId":"b","time":1} x"#,
        r#"{"clientId":"a","channelId":"b","time":1,"clientId":"c"}"#,
        r#"[1]"#,
        r#""#,
        r#"{"clientId":"a","channelId":"b""#,
    ];
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let keys = [
        r#"{"client\u0049d":"a","channelId":"b","time":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"a\u0001":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"a\ud800":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"\u00e9\ud83d\ude00":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"é":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"a\"b":1}"#,
        " {\"clientId\" : \"a\" ,\n\"channelId\":\"b\",\t\"time\":\r1 } \n",
        r#"{"clientId":"a","channelId":"b","time":01}"#,
        r#"{"clientId":"a","channelId":"b","time":0}"#,
        r#"{"clientId":"a","channelId":"b","time":1.0}"#,
        r#"{"clientId":"a","channelId":"b","time":1e3}"#,
        r#"{"clientId":"a","channelId":"b","time":-1}"#,
        r#"{"clientId":"a","channelId":"b","time":-0}"#,
        r#"{"clientId":"a","channelId":"b","time":123456789012345678}"#,
        r#"{"clientId":"a","channelId":"b","time":1234567890123456789}"#,
        r#"{"clientId":"a","channelId":"b","time":99999999999999999999999}"#,
        r#"{"clientId":"a","channelId":"b","time":9007199254740992}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"clientIp":null}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"clientIp":nul}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"clientIp":nullx}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"clientIp":true}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"x":true,"y":[],"z":{}}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"x":null,"y":5,"z":"s","x":6}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"time":2}"#,
        r#"{"clientId":"a","channelId":"b","time":1,}"#,
        r#"{"clientId":"a","channelId":"b","time":1 "x":2}"#,
        r#"{"clientId":"a","channelId":"b","time" 1}"#,
        r#"{"clientId":"a","channelId":"b","time":1}}"#,
        r#"{"clientId":"a","channelId":"b","time":1} {}"#,
        r#"{"clientId":"a","channelId":"b","time":"1"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"eventType":"tcpclean","tag":"connect"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"eventType":"TCPCLEAN"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"eventType":5}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"body":"x"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"body":null}"#,
        r#"{"clientId":"a","channelId":"b"#,
        r#"{"clientId":"a","channelId":"b","time":1"#,
        r#"{"#,
        r#"{}"#,
        r#" "#,
        r#"{"":1}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"é":"ü"}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1}}"#,
        r#"{"tag":"tcpclean","body":{"clientId":"a","channelId":"b","time":1,"eventType":"connect"}}"#,
        r#"{"body":{"clientId":"a","channelId":"b","time":1,"eventType":"connect"},"tag":null}"#,
        r#"{"tag":5,"body":{"clientId":"a","channelId":"b","time":1}}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1,"body":{}}}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1,"tag":"x"}}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1}, "body":{}}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1} }"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1}"#,
        r#"{"tag":"connect","body":{}}"#,
        r#"{"tag":"connect","body":null}"#,
        r#"{"tag":"connect","body":7}"#,
    ];
    for body in bodies.iter().chain(&keys) {
        lines.push(body.as_bytes().to_vec());
    }
    for bad in [
        &b"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1,\"a\tb\":1}"[..],
        b"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1,\"\xff\":1}",
        b"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1,\"\xc3\":1}",
    ] {
        lines.push(bad.to_vec());
    }
    for body in bodies.iter().chain(&keys) {
        // The body as a JSON string, as serde_json writes it, and with every character escaped.
        let quoted = serde_json::to_string(body).unwrap();
        let mut escaped = String::from("\"");
        for c in body.chars() {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                escaped.push_str(&alloc::format!("\\u{u:04x}"));
            }
        }
        escaped.push('"');
        for text in [&quoted, &escaped] {
            for tag in ["connect", "tcpclean", "bogus", "con\\u006eect"] {
                lines.push(alloc::format!(r#"{{"tag":"{tag}","body":{text}}}"#).into_bytes());
            }
            lines.push(alloc::format!(r#"{{"tag":"connect","body":{text},"x":"y"}}"#).into_bytes());
            lines.push(alloc::format!(r#"{{"tag":"connect","body":{text} }}"#).into_bytes());
        }
    }
    for odd in [
        &br#"{"tag":"connect","body":"{\"clientId\":\"\xff\",\"channelId\":\"b\",\"time\":1}"}"#[..],
        br#"{"tag":"connect","body":"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1}\xff"}"#,
        br#"{"tag":"connect","body":"\n"}"#,
        br#"{"tag":"connect","body":"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1}\"}"#,
        br#"{"tag":"connect","body":"\"}"#,
        br#"{"tag":"connect","body":""}"#,
        br#"{"tag":"connect","body":"\q"}"#,
        br#"{"tag":"connect","body":"\u12"}"#,
        br#"{"tag":"connect","body":"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1}","body":"x"}"#,
        br#"{"tag":"","body":"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1}"}"#,
        br#"{"tag":"connect","body":"{}"}"#,
        br#"{"tag":"connect""body":"{}"}"#,
        b"{\"tag\":\"connect\",\"body\":\"{\\\"clientId\\\":\\\"a\tb\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        b"{\"tag\":\"connect\",\"body\":\"{\\\"clientId\\\":\\\"a\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\x7f\"}",
        b"{\"tag\":\"con\tnect\",\"body\":\"{\\\"clientId\\\":\\\"a\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        b"{\"tag\":\"con\xffnect\",\"body\":\"{\\\"clientId\\\":\\\"a\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        b"{\"tag\":\"connect\",\"body\":\"{\\\"clientId\\\":\\\"\xc3\\u00a9\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        b"{\"tag\":\"connect\",\"body\":\"{\\\"clientId\\\":\\\"\xc3\xa9\\\",\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        br#"{"tag":"connect","body":"{"clientId":"a","channelId":"b","time":1}","x":"y"}"#,
        br#"{"tag":"connect","body":"{"clientId":"a","channelId":"b","time":1,"k":"x"}"}"#,
        br#"{"tag":"connect","body":"{"clientId":"a","channelId":"b","time":1}\"}"#,
        br#"{"tag":"connect","body":"{ \"clientId\" : \"a\" , \"channelId\":\"b\",\"time\":1 } "}"#,
        b"{\"tag\":\"connect\",\"body\":\"{\\\"clientId\\\":\\\"a\\\",\t\\\"channelId\\\":\\\"b\\\",\\\"time\\\":1}\"}",
        br#"{"tag":"connect","body":"{\"clientId\":\"a\",\"channelId\":\"b\",\"time\":1}\\"}"#,
        br#"{"tag":"connect","body":"{\"clientId\":\"a\\\"b\",\"channelId\":\"b\",\"time\":1}"}"#,
    ] {
        lines.push(odd.to_vec());
    }
    let mut fast_hits = 0;
    for line in &lines {
        for tag in [None, Some("connect"), Some("tcpclean")] {
            let (fast, slow) = both(line, tag);
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(line));
            if fast_envelope(line, &mut Vec::new(), &mut Raw::default()).is_some() {
                fast_hits += 1;
            }
        }
    }
    assert!(fast_hits > 20, "{fast_hits}");
    assert_eq!(both(b"x", None).0.unwrap_err().to_string(), both(b"x", None).1.unwrap_err().to_string());
}

#[test]
fn the_quoted_path_reads_a_body_string_in_place() {
    let read = |text: &[u8]| {
        let mut raw = Raw::default();
        flat_in::<true>(text, &mut raw)?;
        Some(resolve(&raw, None, 64).map(owned))
    };
    // What a flat body becomes when written as a string: read in place, as unescaping it and
    // then reading it gives.
    for body in [
        r#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":5,"clientIp":"1.2.3.4:5"}"#,
        r#" { "clientId" : "é😀" , "channelId":"c1", "eventType":"tcpclean", "time":"7", "x":null, "y":12 } "#,
        "{}",
    ] {
        let quoted = serde_json::to_string(body).unwrap();
        let text = &quoted.as_bytes()[1..quoted.len() - 1];
        let mut raw = Raw::default();
        assert!(flat(body.as_bytes(), &mut raw).is_some(), "{body}");
        assert_eq!(read(text), Some(resolve(&raw, None, 64).map(owned)), "{body}");
    }
    // Any other escape, a raw quote or control character, or an unfinished or nested body is
    // left to the unescaping path.
    for text in [
        r#"{\"clientId\":\"a\\\"b\"}"#,
        r#"{\"clientId\":\"\u0041\"}"#,
        r#"{\n\"clientId\":\"a\"}"#,
        "{\t\\\"clientId\\\":\\\"a\\\"}",
        "{\\\"clientId\\\":\\\"a\tb\\\"}",
        r#"{\"clientId\":\"a\"}\\"#,
        r#"{\"clientId\":\"a\"} \"#,
        r#"{"clientId":"a"}"#,
        r#"{\"clientId\":\"a"}"#,
        r#"{\"body\":{}}"#,
        r#"{\"clientId\":\"a\",}"#,
        r#"{\"time\":1.5}"#,
    ] {
        assert_eq!(read(text.as_bytes()), None, "{text}");
    }
}

#[test]
fn the_flat_path_takes_the_broker_bodies() {
    for body in [
        &br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":5,"clientIp":"1.2.3.4:5"}"#[..],
        b" {\"clientId\" : \"a\" ,\n\"channelId\":\"b\",\t\"time\":\r1, \"x\": null } \n",
        b"{}",
    ] {
        assert!(flat(body, &mut Raw::default()).is_some(), "{}", String::from_utf8_lossy(body));
    }
    let mut raw = Raw::default();
    assert!(flat(br#"{"tag":"connect","body":{"clientId":"a"}}"#, &mut raw).is_some());
    assert!(matches!(raw, Raw { body: Some(Val::Object(_)), .. }));
    for body in [
        &br#"{"clientId":"a\u0041"}"#[..],
        br#"{"time":1.5}"#,
        br#"{"body":{"body":{}}}"#,
        br#"{"x":[]}"#,
        br#"{"x":{}}"#,
    ] {
        assert!(flat(body, &mut Raw::default()).is_none(), "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn find_special_finds_the_first() {
    for len in 0..30 {
        for at in 0..len {
            for c in [b'"', b'\\', 0, 0x1f, b'\n'] {
                let mut v = alloc::vec![b'x'; len];
                v[at] = c;
                if at + 1 < len {
                    v[at + 1] = b'"';
                }
                assert_eq!(find_special(&v), Some(at));
            }
            let mut v = alloc::vec![0x80u8; len];
            v[at] = b' ';
            assert_eq!(find_special(&v), None);
        }
    }
}

#[test]
fn unescape_matches_serde_json() {
    let long = r#"{\"clientId\":\"GID_lamp@@@dev748fc6\",\"channelId\":\"a77cc94ef7d116a394c15c687375e470\",\"t\":\"\u00e9\ud83d\ude00\"}"#;
    for s in [
        "",
        "a",
        r#"\"\\\/\b\f\n\r\t"#,
        r"\u00e9\u20ac\ud83d\ude00\u0000",
        "x\\u0041y",
        long,
        "0123456\\n",
        "01234567\\n",
    ] {
        let mut out = Vec::new();
        unescape(s.as_bytes(), &mut out).unwrap();
        let want: String = serde_json::from_str(&alloc::format!("\"{s}\"")).unwrap();
        assert_eq!(out, want.as_bytes());
    }
    // Random strings, as serde_json writes them and with random characters as `\u` escapes.
    let alphabet = ['a', '"', '\\', '/', '\n', '\u{1}', 'é', '€', '😀', '\u{7f}', '0'];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..2000 {
        let (mut text, mut escaped) = (String::new(), String::new());
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let c = alphabet[(x % alphabet.len() as u64) as usize];
            text.push(c);
            if x % 3 == 0 {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    escaped.push_str(&alloc::format!("\\u{u:04X}"));
                }
            } else {
                let q = serde_json::to_string(&c.to_string()).unwrap();
                escaped.push_str(&q[1..q.len() - 1]);
            }
        }
        let mut out = Vec::new();
        unescape(escaped.as_bytes(), &mut out).unwrap();
        assert_eq!(out, text.as_bytes(), "{escaped}");
    }
    for s in ["a\"b", "a\tb", "0123456\"", "01234567\u{1}", "\u{1f}"] {
        assert_eq!(unescape(s.as_bytes(), &mut Vec::new()), None, "{s:?}");
    }
    for s in [r"\ud800", r"\udc00", r"\ud800\u0041", r"\ud800x", r"\x", r"\u12", "\\"] {
        assert_eq!(unescape(s.as_bytes(), &mut Vec::new()), None, "{s}");
    }
}

#[test]
fn find_byte_finds_the_first() {
    for byte in [b'\n', b'I'] {
        for len in 0..40 {
            for at in 0..len {
                let mut v = alloc::vec![b'x'; len];
                v[at] = byte;
                assert_eq!(find_byte(&v, byte), Some(at));
                // The same byte with its high bit set (the trick's false-positive edge).
                v[at] = byte | 0x80;
                assert_eq!(find_byte(&v, byte), None);
            }
        }
    }
}
