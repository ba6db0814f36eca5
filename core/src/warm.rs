//! Warming memory for the lines a batch is about to apply.
//!
//! With a large fleet, each event reads a few cache lines at random (its index slot, its client
//! record, the client's id and channels), and one event's reads depend on each other, so a
//! plain loop waits for every miss in turn: at 100 000 clients that waiting cost more than
//! parsing. A batch therefore first reads, for a window of lines, what those lines will need,
//! one level at a time (all slots, then all clients, then their ids and channels). The reads of
//! one level are independent, so the processor overlaps their misses, and the lines are then
//! applied with their data at hand.
//!
//! Everything here is a guess that only moves data closer: the client id is found by a quick
//! scan, not a parse, and a client is guessed from half its hash. A wrong guess warms the wrong
//! lines and changes nothing else; the real lookup follows.

use core::hint::black_box;

use crate::hash::hash_keyed;
use crate::scan::{find_byte, find_special};
use crate::StatusEngine;

/// Lines warmed together: enough misses in flight to overlap, few enough to stay in L1.
pub(crate) const WINDOW: usize = 16;

/// Below this many clients the engine's tables sit in the core's own caches and warming would
/// only add work.
const WORTH_WARMING: usize = 1 << 14;

/// The text after the first `clientId` key of a line, up to the next quote, backslash or
/// control character: the client id of a broker body or envelope (escaped or not) unless the
/// id itself has escapes.
pub(crate) fn client_id_hint(line: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"clientI";
    let mut from = 0;
    loop {
        // `I` is rare in these lines, and ends the part of the key worth checking.
        let at = from + find_byte(&line[from..], b'I')?;
        from = at + 1;
        if at < 6 || &line[at - 6..=at] != KEY || line.get(at + 1) != Some(&b'd') {
            continue;
        }
        let rest = &line[at + 2..];
        let rest = rest.strip_prefix(br#"\":\""#).or_else(|| rest.strip_prefix(br#"":""#))?;
        return Some(&rest[..find_special(rest)?]);
    }
}

impl StatusEngine {
    /// Reads what applying `lines` (at most [`WINDOW`]) will read, a level at a time.
    pub(crate) fn warm(&self, lines: &[&[u8]]) {
        if self.clients.len() < WORTH_WARMING {
            return;
        }
        // Each level works out its addresses first and then reads them in a tight loop, so that
        // all its misses are in flight at once. Values are read, not references: only a read
        // brings a line in.
        let mut hashes = [None; WINDOW];
        for (h, line) in hashes.iter_mut().zip(lines) {
            *h = client_id_hint(line).map(|id| hash_keyed(&self.key, id));
        }
        for h in hashes.into_iter().flatten() {
            black_box(self.index.slot_for(h));
        }
        let mut guesses = [None; WINDOW];
        for (g, h) in guesses.iter_mut().zip(hashes) {
            *g = h.and_then(|h| self.index.guess(h)).and_then(|i| self.clients.get(i as usize));
        }
        for c in guesses.into_iter().flatten() {
            black_box((c.id_off, c.channels.as_slice().len()));
        }
        for c in guesses.into_iter().flatten() {
            black_box(self.ids.get(c.id_off as usize).copied());
            // A redelivery usually concerns one of the newest channels; their keys and times
            // are what the lookup and the judgment read.
            for ch in c.channels.as_slice().iter().rev().take(4) {
                black_box((ch.key().first_byte(), ch.times[2]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client_id_hint;

    #[test]
    fn finds_the_client_id_in_each_line_shape() {
        let cases: [(&[u8], Option<&[u8]>); 6] = [
            (br#"{"clientId":"GID_a@@@d1","channelId":"c"}"#, Some(b"GID_a@@@d1")),
            (br#"{"tag":"connect","body":"{\"channelId\":\"c\",\"clientId\":\"G@@@x\"}"}"#, Some(b"G@@@x")),
            (br#"{"tag":"connect","body":{"clientIp":"1.2.3.4:5","clientId":"dev"}}"#, Some(b"dev")),
            (br#"{"clientId": "spaced"}"#, None),
            (br#"{"channelId":"c"}"#, None),
            (br#"{"clientId":"esc\u00e9"}"#, Some(b"esc")),
        ];
        for (line, want) in cases {
            assert_eq!(client_id_hint(line), want, "{}", core::str::from_utf8(line).unwrap_or("?"));
        }
    }
}
