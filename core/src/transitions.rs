//! A batch's transitions, stored compactly: every id back to back in one string and one small
//! row per transition — two growing buffers per batch instead of two `String`s per transition
//! (a reconnect storm flips most events, and those allocations cost more than the judgment).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;
use core::ops::Range;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{EventType, Transition, TransitionRef};

/// Length of the shortest line that can flip a client,
/// `{"clientId":"a","channelId":"b","eventType":"connect","time":0}`, with its newline (an
/// envelope carrying the type in its tag is longer).
const SHORTEST_FLIP: usize = 64;

/// One transition without its ids: they end at these offsets of [`Transitions::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// End of the client id (it starts where the previous row's channel id ends).
    client_end: usize,
    /// End of the channel id (it starts at `client_end`).
    channel_end: usize,
    time: u64,
    online: bool,
    event_type: EventType,
    /// [`TransitionRef::offline_since`], `u64::MAX` for none.
    offline_since: u64,
}

/// The transitions of a batch, in the order they happened; each is read as a [`TransitionRef`]
/// borrowing its ids from here (use [`to_vec`](Self::to_vec) or
/// [`TransitionRef::to_transition`] for owned ones). Serializes as a list of transitions.
///
/// ```
/// let mut engine = mqtt_status::StatusEngine::default();
/// let report = engine.ingest_many(br#"{"clientId":"G@@@d1","channelId":"c1","eventType":"connect","time":5}"#);
/// let t = report.transitions.get(0).expect("one flip");
/// assert_eq!((t.client_id, t.online, t.time), ("G@@@d1", true, 5));
/// for t in &report.transitions {
///     assert_eq!(t.channel_id, "c1");
/// }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Transitions {
    text: String,
    rows: Vec<Row>,
}

impl Transitions {
    /// No transitions.
    pub fn new() -> Self {
        Self::default()
    }

    /// No transitions, with room reserved for `rows` of them holding `text` bytes of ids in
    /// all, so that up to there nothing moves as they are pushed. What cannot be reserved is
    /// simply not: the buffers then grow as needed.
    pub fn with_capacity(rows: usize, text: usize) -> Self {
        let mut all = Transitions::new();
        // `try_` so that an oversized hint on a small machine costs nothing instead of aborting.
        let _ = all.rows.try_reserve_exact(rows);
        let _ = all.text.try_reserve_exact(text);
        all
    }

    /// The most a JSONL batch of `jsonl_len` bytes can report, as `(transitions, id bytes)`: a
    /// transition per line, were every line as short as a flipping line can be (64 bytes with
    /// its newline), and ids that are never longer than the text they were read from. A
    /// capacity hint, here and for sinks of
    /// [`StatusEngine::ingest_many_each`](crate::StatusEngine::ingest_many_each).
    pub fn most_for_jsonl(jsonl_len: usize) -> (usize, usize) {
        (jsonl_len / SHORTEST_FLIP + 1, jsonl_len)
    }

    /// Gives back capacity beyond what is held.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.rows.shrink_to_fit();
    }

    /// How many transitions there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Transition `i` (in the order they happened), if there is one.
    pub fn get(&self, i: usize) -> Option<TransitionRef<'_>> {
        let row = self.rows.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.rows[p].channel_end);
        // Offsets are char boundaries by construction; `get` keeps even a broken invariant
        // from panicking.
        let text = |r: Range<usize>| self.text.get(r).unwrap_or_default();
        Some(TransitionRef {
            client_id: text(start..row.client_end),
            online: row.online,
            time: row.time,
            channel_id: text(row.client_end..row.channel_end),
            event_type: row.event_type,
            offline_since: (row.offline_since != u64::MAX).then_some(row.offline_since),
        })
    }

    /// The transitions in order.
    pub fn iter(&self) -> TransitionIter<'_> {
        TransitionIter { all: self, at: 0..self.len() }
    }

    /// Appends one transition (copying its ids).
    pub fn push(&mut self, t: TransitionRef<'_>) {
        self.text.push_str(t.client_id);
        let client_end = self.text.len();
        self.text.push_str(t.channel_id);
        let row = Row {
            client_end,
            channel_end: self.text.len(),
            time: t.time,
            online: t.online,
            event_type: t.event_type,
            offline_since: t.offline_since.unwrap_or(u64::MAX),
        };
        self.rows.push(row);
    }

    /// Owned copies of every transition.
    pub fn to_vec(&self) -> Vec<Transition> {
        self.iter().map(|t| t.to_transition()).collect()
    }
}

impl fmt::Debug for Transitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> Extend<TransitionRef<'a>> for Transitions {
    fn extend<I: IntoIterator<Item = TransitionRef<'a>>>(&mut self, iter: I) {
        for t in iter {
            self.push(t);
        }
    }
}

impl<'a> FromIterator<TransitionRef<'a>> for Transitions {
    fn from_iter<I: IntoIterator<Item = TransitionRef<'a>>>(iter: I) -> Self {
        let mut all = Transitions::new();
        all.extend(iter);
        all
    }
}

impl<'a> FromIterator<&'a Transition> for Transitions {
    fn from_iter<I: IntoIterator<Item = &'a Transition>>(iter: I) -> Self {
        iter.into_iter().map(TransitionRef::from).collect()
    }
}

impl<'a> IntoIterator for &'a Transitions {
    type Item = TransitionRef<'a>;
    type IntoIter = TransitionIter<'a>;

    fn into_iter(self) -> TransitionIter<'a> {
        self.iter()
    }
}

impl Serialize for Transitions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Transitions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Transition>::deserialize(deserializer)?.iter().collect())
    }
}

/// Iterator over [`Transitions`], yielding [`TransitionRef`]s.
#[derive(Debug, Clone)]
pub struct TransitionIter<'a> {
    all: &'a Transitions,
    at: Range<usize>,
}

impl<'a> Iterator for TransitionIter<'a> {
    type Item = TransitionRef<'a>;

    fn next(&mut self) -> Option<TransitionRef<'a>> {
        self.at.next().and_then(|i| self.all.get(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.at.size_hint()
    }
}

impl DoubleEndedIterator for TransitionIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.at.next_back().and_then(|i| self.all.get(i))
    }
}

impl ExactSizeIterator for TransitionIter<'_> {}

impl FusedIterator for TransitionIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn owned(client: &str, channel: &str, time: u64, online: bool) -> Transition {
        let (client_id, channel_id) = (client.to_string(), channel.to_string());
        Transition {
            client_id,
            online,
            time,
            channel_id,
            event_type: EventType::Disconnect,
            offline_since: None,
        }
    }

    #[test]
    fn holds_what_was_pushed_in_order() {
        let list = [owned("G@@@ü", "c1", 1, true), owned("", "", 2, false), owned("x", "😀-2", 3, true)];
        let all: Transitions = list.iter().collect();
        assert_eq!((all.len(), all.is_empty()), (3, false));
        assert_eq!(all.to_vec(), list);
        assert_eq!(all.iter().rev().map(|t| t.time).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(all.iter().len(), 3);
        assert_eq!(all.get(1).map(|t| t.client_id), Some(""));
        assert!(all.get(3).is_none());
        assert_eq!(
            alloc::format!("{all:?}"),
            alloc::format!("{:?}", list.iter().map(TransitionRef::from).collect::<Vec<_>>())
        );
        assert!(Transitions::new().is_empty());
    }

    #[test]
    fn reserved_room_is_filled_in_place_and_given_back() {
        let mut all = Transitions::with_capacity(3, 12);
        let (rows, text) = (all.rows.as_ptr(), all.text.as_ptr());
        for t in [owned("G@@@a", "c", 1, true), owned("b", "c", 2, false), owned("é", "", 3, true)] {
            all.push(TransitionRef::from(&t));
        }
        assert_eq!((all.rows.as_ptr(), all.text.as_ptr()), (rows, text), "nothing moved");
        all.push(TransitionRef::from(&owned("beyond", "the room", 4, false)));
        all.shrink_to_fit();
        assert_eq!((all.rows.capacity(), all.text.capacity()), (4, all.text.len()));
        assert_eq!(all.iter().map(|t| t.client_id).collect::<Vec<_>>(), ["G@@@a", "b", "é", "beyond"]);
        // A hint the machine cannot hold reserves nothing instead of aborting.
        assert!(Transitions::with_capacity(usize::MAX, usize::MAX).rows.capacity() < usize::MAX);
    }

    #[test]
    fn most_for_jsonl_bounds_a_batch_of_the_shortest_flipping_lines() {
        let lines: Vec<String> = ('a'..='z')
            .map(|c| alloc::format!(r#"{{"clientId":"{c}","channelId":"b","eventType":"connect","time":0}}"#))
            .collect();
        let jsonl = lines.join("\n");
        let report = crate::StatusEngine::default().ingest_many(jsonl.as_bytes());
        assert_eq!(report.transitions.len(), 26);
        assert_eq!(Transitions::most_for_jsonl(jsonl.len()).0, 26, "the bound is tight");
        assert_eq!(Transitions::most_for_jsonl(0).0, 1);
        let ids: usize = report.transitions.iter().map(|t| t.client_id.len() + t.channel_id.len()).sum();
        assert!(ids <= Transitions::most_for_jsonl(jsonl.len()).1);
    }

    #[test]
    fn serializes_as_a_list_of_transitions() {
        let list = alloc::vec![owned("G@@@d", "c\"1", 9_007_199_254_740_991, false)];
        let all: Transitions = list.iter().collect();
        let json = serde_json::to_string(&all).expect("serializes");
        assert_eq!(json, serde_json::to_string(&list).expect("serializes"));
        let back: Transitions = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, all);
    }
}
