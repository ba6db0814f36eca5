//! What the vendor flat reader guarantees about the values it skips (`walk.rs`): they are
//! checked as serde_json checks them, so a line it reads flat is valid JSON, and a line with
//! invalid JSON anywhere (inside skipped strings, arrays and objects too) is declined and
//! judged by the exact read, with the same typed error. Each case is compared with the exact
//! read in every vendor source (`tests::agree`); the cases that must stay on the fast path are
//! checked to be read flat, so the comparison is not won by declining everything.

use super::tests::agree;
use super::*;
use crate::{with_notification_as, ErrorCode};
use alloc::format;
use alloc::string::String;

/// An EMQX connected event with `x` as the value of an unknown key.
fn with(x: &str) -> String {
    format!(r#"{{"event":"client.connected","clientid":"c","x":{x},"connected_at":5,"timestamp":6}}"#)
}

fn flat(line: &str) -> bool {
    walk::read(line.as_bytes(), &mut Rec::default()).is_some()
}

fn code(line: &str) -> Option<ErrorCode> {
    with_notification_as(Source::Emqx, line.as_bytes(), None, 64, |_| ()).err().map(|e| e.code())
}

/// Skipped values the flat reader reads (and must keep reading: a decline is a slowdown).
const READ_FLAT: &[&str] = &[
    r#""plain""#,
    r#""brackets { [ ] } and : , inside""#,
    r#""a string of more than eight bytes, several words long, ending at a word's end.""#,
    r#"{}"#,
    r#"[]"#,
    r#"{"User-Property":{},"Request-Problem-Information":1}"#,
    r#"[1,-2,0,-7]"#,
    r#"["]"]"#,
    r#"[0,7,-7,1234567,12345678,-12345678,123456789012345678]"#,
    r#"[true,false,null,[],{},[[]],{"a":{}}]"#,
    r#"{"a":"}","b":"]","c":"{[","d":[{"e":[{}]}]}"#,
    r#"{ "a" : [ 1 , 2 ] , "b" : { } , "c" : "d" }"#,
];

/// Skipped values with escapes or numbers the flat reader leaves to the exact read (valid
/// JSON: the line is accepted either way).
const DECLINED_VALID: &[&str] = &[
    r#""a\"b""#,
    r#""a\\""#,
    r#""a\\\"b""#,
    r#""\u005d]""#,
    r#"["\"]", "]"]"#,
    r#"{"k\"}":1}"#,
    r#"1.5"#,
    r#"[1,-0.5e0]"#,
    r#"1e3"#,
    r#"-0"#,
    r#"1234567890123456789"#,
];

/// Invalid JSON inside a skipped value: `invalid_json`, whichever reader sees it.
const INVALID: &[&str] = &[
    r#""unterminated"#,
    "\"raw\ttab\"",
    "\"raw\u{1}control\"",
    r#""a\"#,
    r#""a\\"b""#,
    r#""a\x""#,
    r#"[1,2}"#,
    r#"{"a":1]"#,
    r#"[{]}"#,
    r#"{"a"}"#,
    r#"{"a":}"#,
    r#"{,}"#,
    r#"{"a":1,}"#,
    r#"[1,]"#,
    r#"[,1]"#,
    r#"[1 2]"#,
    r#"{"a" 1}"#,
    r#"{1:2}"#,
    r#"{"a":"}"#,
    r#"[01]"#,
    r#"[-]"#,
    r#"[-01]"#,
    r#"[1.]"#,
    r#"[.5]"#,
    r#"[+1]"#,
    r#"[tru]"#,
    r#"[truex]"#,
    r#"[nul]"#,
    r#"[nulll]"#,
    r#"[fals]"#,
    r#"[True]"#,
    r#"[1]]"#,
    r#"{}}"#,
    r#"["#,
    r#"{"#,
];

#[test]
fn skipped_values_read_flat_are_checked() {
    for x in READ_FLAT {
        let line = with(x);
        assert!(flat(&line), "declined: {line}");
        assert_eq!(code(&line), None, "{line}");
        agree(line.as_bytes());
    }
}

#[test]
fn escapes_and_other_numbers_in_skipped_values_go_to_the_exact_read() {
    for x in DECLINED_VALID {
        let line = with(x);
        assert!(!flat(&line), "read flat: {line}");
        assert_eq!(code(&line), None, "{line}");
        agree(line.as_bytes());
    }
}

#[test]
fn invalid_json_inside_skipped_values_is_invalid_json() {
    for x in INVALID {
        let line = with(x);
        assert!(!flat(&line), "read flat: {line}");
        assert_eq!(code(&line), Some(ErrorCode::InvalidJson), "{line}");
        agree(line.as_bytes());
    }
    // Invalid UTF-8 in a skipped string.
    let mut line = with(r#""é""#).into_bytes();
    let at = line.iter().position(|&c| c == 0xc3).unwrap();
    line[at + 1] = b'x';
    assert!(walk::read(&line, &mut Rec::default()).is_none());
    agree(&line);
}

#[test]
fn nesting_is_read_flat_to_a_limit_then_left_to_the_exact_read() {
    for (depth, is_flat, ok) in
        [(1, true, true), (31, true, true), (32, true, true), (33, false, true), (129, false, false)]
    {
        for (open, inner, close) in
            [("[", "1", "]"), ("{\"a\":", "1", "}"), ("[", "[]", "]"), ("[", "\"]}\"", "]")]
        {
            let x = format!("{}{inner}{}", open.repeat(depth), close.repeat(depth));
            let line = with(&x);
            assert_eq!(flat(&line), is_flat, "{depth} {x}");
            // serde_json's own limit (128) makes the deepest one invalid JSON.
            assert_eq!(code(&line).is_none(), ok, "{depth} {x}");
            agree(line.as_bytes());
        }
    }
}

#[test]
fn mutated_lines_agree_with_the_exact_read() {
    // Every line of a few shapes, with one to three random edits from a JSON-heavy alphabet
    // (a fixed xorshift: the same cases every run).
    let bases = [
        with(r#"{"User-Property":{"k":["v",1,true]},"n":-12,"s":"a,b]"}"#),
        String::from(
            r#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s","x":[1,{"y":[null,false,"z"]}]}"#,
        ),
        String::from(
            r#"{"type":"Microsoft.EventGrid.MQTTClientSessionConnected","time":"2023-07-29T01:23:49Z","data":{"clientSessionName":"s","sequenceNumber":1,"x":{"y":[]}}}"#,
        ),
    ];
    let alphabet = b"{}[]\":,\\ \t0123456789-+.eEtrufalsn\x01\xc3";
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for base in &bases {
        for _ in 0..3000 {
            let mut v = base.clone().into_bytes();
            for _ in 0..1 + next(3) {
                let at = next(v.len());
                let c = alphabet[next(alphabet.len())];
                match next(3) {
                    0 => v[at] = c,
                    1 => v.insert(at, c),
                    _ => {
                        v.remove(at);
                    }
                }
            }
            agree(&v);
        }
    }
}
