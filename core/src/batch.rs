//! Batches: a JSONL buffer or a list of items, every good item applied, every bad one reported;
//! the transitions collected in a [`BatchReport`] or handed to a callback as they happen.

use alloc::vec::Vec;

use crate::grace::Flip;
use crate::scan::find_byte;
use crate::warm::WINDOW;
use crate::{
    parse, BatchError, BatchReport, Error, Outcome, StatusEngine, TransitionRef, Transitions,
    MAX_REPORTED_ERRORS,
};

/// Counts a rejected item, keeping its error if fewer than [`MAX_REPORTED_ERRORS`] are kept
/// (items come in input order, so the first ones are kept): the one rule for every report.
pub(crate) fn reject_into(errors: &mut Vec<BatchError>, rejected: &mut u64, index: u64, e: &Error) {
    *rejected += 1;
    if errors.len() < MAX_REPORTED_ERRORS {
        errors.push(BatchError::new(index, e));
    }
}

impl BatchReport {
    fn reject(&mut self, index: usize, e: &Error) {
        reject_into(&mut self.errors, &mut self.rejected, index as u64, e);
    }
}

impl StatusEngine {
    /// Ingests JSONL bytes: one body or envelope per line. Blank lines are skipped (but keep
    /// their index); bad lines are reported and every good line is applied.
    pub fn ingest_many(&mut self, jsonl: &[u8]) -> BatchReport {
        self.ingest_many_until(jsonl, None)
    }

    /// Like [`ingest_many`](Self::ingest_many), but events with a time after `until` are
    /// skipped without counting (to answer "as of" a time). Bad lines are still reported.
    pub fn ingest_many_until(&mut self, jsonl: &[u8], until: Option<u64>) -> BatchReport {
        // Room for the most the input can hold, so nothing moves while the report grows: the
        // rows and ids growing in turn leapfrogged each other in the heap, copied and paged in
        // again at every doubling (the report's cost in a 1M-event batch went from a median of
        // 38 to 21 ns/event; docs/BENCHMARKS.md). Capacity never written is never paged in, and
        // is given back at the end.
        let (rows, text) = Transitions::most_for_jsonl(jsonl.len());
        let mut transitions = Transitions::with_capacity(rows, text);
        let mut report = self.ingest_many_each(jsonl, until, |t| transitions.push(t));
        transitions.shrink_to_fit();
        report.transitions = transitions;
        report
    }

    /// Like [`ingest_many_until`](Self::ingest_many_until), but each transition goes to
    /// `on_transition` as it happens, borrowing its ids from the input, instead of into the
    /// report (whose `transitions` stay empty): no allocation per transition, and nothing kept.
    ///
    /// ```
    /// let mut engine = mqtt_status::StatusEngine::default();
    /// let jsonl = br#"{"clientId":"G@@@d1","channelId":"c1","eventType":"connect","time":5}"#;
    /// let mut online = Vec::new();
    /// let report = engine.ingest_many_each(jsonl, None, |t| online.push((t.client_id.to_string(), t.online)));
    /// assert_eq!((report.applied, online), (1, vec![("G@@@d1".to_string(), true)]));
    /// ```
    pub fn ingest_many_each<F>(&mut self, jsonl: &[u8], until: Option<u64>, on_transition: F) -> BatchReport
    where
        F: FnMut(TransitionRef<'_>),
    {
        let lines = Lines(Some(jsonl)).map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let lines = lines.enumerate().filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
        self.ingest_indexed(lines, until, on_transition)
    }

    /// Ingests a list of bodies or envelopes (each one JSON document), reporting by position.
    pub fn ingest_items<I, B>(&mut self, items: I) -> BatchReport
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        self.ingest_items_until(items, None)
    }

    /// Like [`ingest_items`](Self::ingest_items), skipping (without counting) events with a
    /// time after `until`.
    pub fn ingest_items_until<I, B>(&mut self, items: I, until: Option<u64>) -> BatchReport
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let items = items.into_iter();
        // A flip per item at most; the ids' length is not known ahead (see `ingest_many_until`).
        let mut transitions = Transitions::with_capacity(items.size_hint().0, 0);
        let mut report = self.ingest_items_each(items, until, |t| transitions.push(t));
        transitions.shrink_to_fit();
        report.transitions = transitions;
        report
    }

    /// Like [`ingest_items_until`](Self::ingest_items_until), with each transition handed to
    /// `on_transition` instead of kept (see [`ingest_many_each`](Self::ingest_many_each)).
    pub fn ingest_items_each<I, B, F>(
        &mut self,
        items: I,
        until: Option<u64>,
        on_transition: F,
    ) -> BatchReport
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
        F: FnMut(TransitionRef<'_>),
    {
        self.ingest_indexed(items.into_iter().enumerate(), until, on_transition)
    }

    /// Like [`ingest_items_each`](Self::ingest_items_each), for a host that could not turn
    /// every item into bytes: an `Err` item (see [`Error::unserializable`]) is rejected at its
    /// position with that error, counted and reported like any other bad item.
    pub fn ingest_item_results_each<I, B, F>(
        &mut self,
        items: I,
        until: Option<u64>,
        on_transition: F,
    ) -> BatchReport
    where
        I: IntoIterator<Item = Result<B, Error>>,
        B: AsRef<[u8]>,
        F: FnMut(TransitionRef<'_>),
    {
        // The failed items are set aside as the good ones stream past (the good ones' path stays
        // the plain one), then counted and merged into the report in input order.
        let mut failed: Vec<(usize, Error)> = Vec::new();
        let good = items.into_iter().enumerate().filter_map(|(i, item)| match item {
            Ok(b) => Some((i, b)),
            Err(e) => {
                failed.push((i, e));
                None
            }
        });
        let mut report = self.ingest_indexed(good, until, on_transition);
        if failed.is_empty() {
            return report;
        }
        let kept = core::mem::take(&mut report.errors);
        let mut merged = BatchReport { rejected: report.rejected, ..BatchReport::default() };
        let (mut kept, mut failed) = (kept.into_iter().peekable(), failed.into_iter().peekable());
        loop {
            let take_kept = match (kept.peek(), failed.peek()) {
                (Some(k), Some((i, _))) => k.index < *i as u64,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_kept {
                merged.errors.extend(kept.next().filter(|_| merged.errors.len() < MAX_REPORTED_ERRORS));
            } else if let Some((i, e)) = failed.next() {
                self.count(None);
                merged.reject(i, &e);
            }
        }
        report.rejected = merged.rejected;
        report.errors = merged.errors;
        report
    }

    /// Counts one rejected input that was never handed to the parser (an object the host's own
    /// JSON serializer refused, see [`Error::unserializable`]; a line over the CLI's length
    /// limit), as `ingest_json` counts a bad body; returns the error for the host to raise.
    pub fn reject_unread(&mut self, error: Error) -> Error {
        self.count(None);
        error
    }

    fn ingest_indexed<I, B, F>(
        &mut self,
        mut items: I,
        until: Option<u64>,
        mut on_transition: F,
    ) -> BatchReport
    where
        I: Iterator<Item = (usize, B)>,
        B: AsRef<[u8]>,
        F: FnMut(TransitionRef<'_>),
    {
        let mut report = BatchReport::default();
        let mut scratch = self.take_scratch();
        let mut window: Vec<(usize, B)> = Vec::with_capacity(WINDOW);
        loop {
            window.extend(items.by_ref().take(WINDOW));
            if window.is_empty() {
                break;
            }
            let mut lines = [&[][..]; WINDOW];
            for (l, (_, item)) in lines.iter_mut().zip(&window) {
                *l = item.as_ref();
            }
            self.warm(&lines[..window.len()]);
            for (index, item) in window.drain(..) {
                self.ingest_one(index, item.as_ref(), until, &mut scratch, &mut report, &mut on_transition);
            }
        }
        self.put_scratch(scratch);
        report
    }

    fn ingest_one<F>(
        &mut self,
        index: usize,
        item: &[u8],
        until: Option<u64>,
        scratch: &mut Vec<u8>,
        report: &mut BatchReport,
        on_transition: &mut F,
    ) where
        F: FnMut(TransitionRef<'_>),
    {
        let (max, source) = (self.config().max_id_len, self.config().source);
        let r = if crate::observe::is_observation(item) {
            self.observe_line(item, until, on_transition)
        } else {
            parse::with_source_notification(source, item, None, max, scratch, |n| {
                if until.is_some_and(|u| n.time > u) {
                    return None;
                }
                let r = self.apply(&n);
                if let Ok((_, flip)) = r {
                    self.emit(flip, &n, &mut *on_transition);
                }
                Some(r)
            })
        };
        let r = match r {
            Ok(None) => return,
            Ok(Some(r)) => r,
            Err(e) => Err(e),
        };
        self.count(r.as_ref().ok().map(|&(o, f)| (o, f.online())));
        match r {
            Ok((Outcome::Applied, _)) => report.applied += 1,
            Ok((Outcome::Duplicate, _)) => report.duplicates += 1,
            Ok((Outcome::Late, _)) => report.late += 1,
            Err(e) => report.reject(index, &e),
        }
    }
}

impl StatusEngine {
    /// An observation line of a batch (`observe.rs`): `Ok(None)` when skipped by `until`.
    #[allow(clippy::type_complexity)]
    fn observe_line<F>(
        &mut self,
        item: &[u8],
        until: Option<u64>,
        on_transition: &mut F,
    ) -> Result<Option<Result<(Outcome, Flip), Error>>, Error>
    where
        F: FnMut(TransitionRef<'_>),
    {
        let (client_id, online, time) = crate::observe::parse_line(item, self.config().max_id_len)?;
        if until.is_some_and(|u| time > u) {
            return Ok(None);
        }
        let r = self.apply_observation(&client_id, online, time);
        if let Ok((_, flip)) = r {
            self.emit(flip, &crate::observe::cause(&client_id, time), &mut *on_transition);
        }
        Ok(Some(r))
    }
}

/// The pieces of a byte string between `\n`s, as `<[u8]>::split` gives them, found a word at a
/// time (a JSONL batch spends no longer finding its lines than reading them once).
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0?;
        match find_byte(rest, b'\n') {
            Some(i) => {
                self.0 = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => self.0.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn lines_split_as_slice_split_does() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\n",
            b"a",
            b"a\n",
            b"\n\na\n\nbb",
            b"0123456789abcdef\n",
            b"0123456\n89\n",
            b"\x8a\x0a\xff\n\x80",
        ];
        for input in inputs {
            let ours: alloc::vec::Vec<&[u8]> = Lines(Some(input)).collect();
            let std: alloc::vec::Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            assert_eq!(ours, std, "{input:?}");
        }
    }
}
