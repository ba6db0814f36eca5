//! Unit tests of the parser (the flat reader against serde_json's, edge cases, how often a
//! line is read).

#[cfg(feature = "std")]
use super::raw::READS;
use super::raw::{Line, Val};
use super::validate::resolve;
use super::*;
use crate::EventType;
use alloc::string::{String, ToString};

type Owned = (String, String, EventType, u64, Option<String>);

fn owned(n: Notification<'_>) -> Owned {
    (n.client_id.into(), n.channel_id.into(), n.event_type, n.time, n.client_ip.map(String::from))
}

fn both(line: &[u8], tag: Option<&str>) -> (Result<Owned, Error>, Result<Owned, Error>) {
    let fast = with_notification_in(line, tag, 64, &mut Vec::new(), owned);
    // The reference: serde_json alone, no flat reader.
    let slow = exact(line, tag, 64, &mut Vec::new(), owned);
    (fast, slow)
}

#[test]
fn the_flat_reader_agrees_with_serde_json() {
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
        // A repeated key is remembered, not fatal: invalid JSON after it, then field order.
        r#"{"clientId":"a","clientId":"b",}"#,
        r#"{"clientId":"","time":1,"time":2,"channelId":"b"}"#,
        r#"{"clientId":"a","channelId":"b","time":1,"tag":"x","tag":"y"}"#,
        r#"{"tag":"connect","tag":"connect","body":{"clientId":"a","channelId":"b","time":1}}"#,
        r#"{"tag":"connect","body":{"clientId":"a","channelId":"b","time":1},"body":{}}"#,
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
            if flat::read(line, &mut Line::default()).is_some() {
                fast_hits += 1;
            }
        }
    }
    assert!(fast_hits > 300, "{fast_hits}");
    assert_eq!(both(b"x", None).0.unwrap_err().to_string(), both(b"x", None).1.unwrap_err().to_string());
}

#[test]
fn the_flat_reader_reads_a_body_string_in_place() {
    let read = |text: &[u8]| {
        let mut line = Line::default();
        let envelope = [&br#"{"tag":"connect","body":""#[..], text, br#""}"#].concat();
        flat::read(&envelope, &mut line)?;
        assert!(matches!(line.outer.body, Some(Val::Object)));
        Some(resolve(&line.inner, None, 64).map(owned))
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
        let mut line = Line::default();
        assert!(flat::read(body.as_bytes(), &mut line).is_some(), "{body}");
        assert_eq!(read(text), Some(resolve(&line.outer, None, 64).map(owned)), "{body}");
    }
    // Any other escape, a raw quote or control character, or an unfinished or nested body is
    // left to serde_json.
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
        "x",
        "",
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
        assert!(flat::read(body, &mut Line::default()).is_some(), "{}", String::from_utf8_lossy(body));
    }
    let mut line = Line::default();
    assert!(flat::read(br#"{"tag":"connect","body":{"clientId":"a"}}"#, &mut line).is_some());
    assert!(matches!(line.outer.body, Some(Val::Object)));
    assert!(matches!(line.inner.client_id, Some(Val::Str(_))));
    for body in [
        &br#"{"clientId":"a\u0041"}"#[..],
        br#"{"time":1.5}"#,
        br#"{"body":{"body":{}}}"#,
        br#"{"x":[]}"#,
        br#"{"x":{}}"#,
    ] {
        assert!(flat::read(body, &mut Line::default()).is_none(), "{}", String::from_utf8_lossy(body));
    }
}

/// Every line of the conformance vectors (bodies, envelopes, bad lines), each also as envelopes
/// with a string body (written as serde_json writes it, and with every character escaped).
#[cfg(feature = "std")]
fn vector_lines() -> Vec<Vec<u8>> {
    use serde_json::Value;
    fn add(v: &Value, out: &mut Vec<Vec<u8>>) {
        match v {
            Value::String(s) => out.extend(s.split('\n').map(|l| l.as_bytes().to_vec())),
            Value::Array(items) => items.iter().for_each(|i| add(i, out)),
            v => out.push(serde_json::to_vec(v).unwrap()),
        }
    }
    fn walk(steps: &[Value], out: &mut Vec<Vec<u8>>) {
        for step in steps {
            if let Some(v) = step.get("ingest").or_else(|| step.get("ingestMany")) {
                add(v, out);
            }
            if let Some(Value::String(hex)) = step.get("ingestHex") {
                out.push(
                    (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                        .collect(),
                );
            }
            if let Some(Value::Array(nested)) = step.get("merge").and_then(|m| m.get("steps")) {
                walk(nested, out);
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut lines = Vec::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let v: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        walk(v["steps"].as_array().unwrap(), &mut lines);
    }
    for line in lines.clone() {
        let Ok(text) = core::str::from_utf8(&line) else { continue };
        let quoted = serde_json::to_string(text).unwrap();
        let escaped: String = text.encode_utf16().map(|u| alloc::format!("\\u{u:04x}")).collect();
        for body in [quoted, alloc::format!("\"{escaped}\"")] {
            lines.push(alloc::format!(r#"{{"tag":"connect","body":{body}}}"#).into_bytes());
        }
    }
    lines
}

/// The reader runs `line` takes: (whole lines, body strings read after their envelope).
#[cfg(feature = "std")]
fn reads(line: &[u8]) -> ((u32, u32), Result<Owned, Error>) {
    READS.with(|c| c.set((0, 0)));
    let r = with_notification_in(line, None, 64, &mut Vec::new(), owned);
    (READS.with(|c| c.get()), r)
}

#[cfg(feature = "std")]
#[test]
fn a_line_is_read_at_most_twice() {
    use std::collections::BTreeMap;
    let mut worst: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let lines = vector_lines();
    assert!(lines.len() > 1000, "{}", lines.len());
    for line in &lines {
        let ((whole, body), r) = reads(line);
        // Once by the flat reader (an envelope's body string read in place with it) and once by
        // serde_json; serde_json reads a body string it had to unescape once more, after the
        // envelope, so no byte is read more than twice either.
        assert!(
            whole <= 2 && body <= 1 && whole + body <= 3,
            "{whole}+{body}: {}",
            String::from_utf8_lossy(line)
        );
        if body == 1 {
            assert_eq!(whole, 2, "{}", String::from_utf8_lossy(line));
        }
        let Err(e) = r else { continue };
        let shape = match serde_json::from_slice::<serde_json::Value>(line) {
            Err(_) if line.starts_with(br#"{"tag""#) => "envelope, not JSON",
            Err(_) => "not JSON",
            Ok(v) if v.get("body").is_some_and(|b| b.is_string()) => "envelope, string body",
            Ok(v) if v.get("body").is_some() => "envelope, other body",
            Ok(_) => "bare body",
        };
        let w = worst.entry(alloc::format!("{shape}: {}", e.code().as_str())).or_default();
        *w = (w.0.max(whole), w.1.max(body));
    }
    for (kind, (whole, body)) in &worst {
        std::println!("{kind}: {whole} + {body}");
    }
    assert!(worst.len() > 10, "{worst:?}");
}
