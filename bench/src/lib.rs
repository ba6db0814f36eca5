//! Benchmarks of `mqtt-status` (see `bench/run.sh` and docs/BENCHMARKS.md): the parse floor, the
//! seed demo's baseline store, and small timing helpers. The binary (`src/main.rs`) runs them.

pub mod baseline;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::{Duration, Instant};

/// The envelope's `body` for the parse floor: a JSON string is itself parsed (as
/// [`IgnoredAny`]), an object is walked; nothing is kept.
struct FloorBody;

impl<'de> Deserialize<'de> for FloorBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FloorBodyVisitor)
    }
}

struct FloorBodyVisitor;

impl<'de> Visitor<'de> for FloorBodyVisitor {
    type Value = FloorBody;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a body")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FloorBody, E> {
        serde_json::from_str::<IgnoredAny>(v).map_err(E::custom)?;
        Ok(FloorBody)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FloorBody, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FloorBody)
    }
}

/// A line as the floor sees it: every field ignored except an envelope's `body`, which is
/// validated too (a string body is a second JSON document).
#[derive(Deserialize)]
struct FloorLine {
    #[serde(default)]
    body: Option<FloorBody>,
}

/// The parse floor for one line: serde_json validates it (and a string body inside it) as
/// [`IgnoredAny`], keeping nothing. Returns whether it was an envelope, `None` on invalid JSON.
pub fn floor_line(line: &[u8]) -> Option<bool> {
    serde_json::from_slice::<FloorLine>(line).ok().map(|l| l.body.is_some())
}

/// The non-blank lines of a JSONL buffer (a trailing `\r` stripped), as the engine splits them.
pub fn lines(jsonl: &[u8]) -> Vec<&[u8]> {
    jsonl
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect()
}

/// Runs `setup` then times `run` on its output, `reps` times; returns the fastest run. What `run`
/// returns is dropped outside the timed region.
pub fn best_of<S, R>(reps: usize, mut setup: impl FnMut() -> S, mut run: impl FnMut(S) -> R) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..reps.max(1) {
        let s = setup();
        let start = Instant::now();
        let r = std::hint::black_box(run(s));
        let elapsed = start.elapsed();
        drop(r);
        best = best.min(elapsed);
    }
    best
}

/// Nanoseconds per item.
pub fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_nanos() as f64 / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn floor_validates_nested_bodies() {
        assert_eq!(super::floor_line(br#"{"clientId":"a","time":1}"#), Some(false));
        assert_eq!(super::floor_line(br#"{"tag":"connect","body":"{\"clientId\":\"a\"}"}"#), Some(true));
        assert_eq!(super::floor_line(br#"{"tag":"connect","body":{"clientId":"a"}}"#), Some(true));
        assert_eq!(super::floor_line(br#"{"tag":"connect","body":"{\"clientId\":"}"#), None);
        assert_eq!(super::floor_line(b"{"), None);
    }
}
