//! Applying logged calls to the in-memory state — the same code live (after the append is
//! durable) and on replay, so a reopened store holds exactly what its handles answered.

use mqtt_status::{
    BatchError, BatchReport, Error, Outcome, Stats, StatusEngine, Transition, TransitionRef, Transitions,
};

use crate::file::codec::{corrupt, Entry, Reader};
use crate::file::feed::Feed;

/// The state a file store serves: the engine, the feed, and the counters at open (so that
/// `stats()` counts what this handle was fed).
pub(crate) struct State {
    pub(crate) engine: StatusEngine,
    pub(crate) feed: Feed,
    pub(crate) base: Stats,
    /// Set when the state may hold calls that are not durable (a sync failed and the disk could
    /// not be read back): every call fails until the store is reopened.
    pub(crate) broken: Option<String>,
}

/// What one logged call returned.
#[derive(Debug)]
pub(crate) enum Done {
    /// `ingest_json`.
    One(Result<Option<Transition>, Error>),
    /// `ingest_many` / `ingest_items`.
    Batch(BatchReport),
    /// `load_snapshot`.
    Merged(Result<(), Error>),
    /// `advance`: the offlines it confirmed.
    Advanced(Result<Vec<Transition>, Error>),
}

impl State {
    /// Applies every entry of a frame body, in order; their results.
    pub(crate) fn apply_frame(&mut self, body: &[u8], mut each: impl FnMut(Done)) -> Result<(), Error> {
        let mut r = Reader::new(body);
        while !r.done() {
            let entry = r.entry().ok_or_else(|| corrupt("undecodable entry in a whole frame"))?;
            each(self.apply(entry));
        }
        Ok(())
    }

    /// Applies one logged call.
    pub(crate) fn apply(&mut self, entry: Entry<'_>) -> Done {
        match entry {
            Entry::Json { body, tag } => {
                let r = self.engine.ingest_json(body, tag);
                if let Ok(Some(t)) = &r {
                    self.feed.push(t.into());
                }
                Done::One(r)
            }
            Entry::Many(jsonl) => {
                let report = self.engine.ingest_many(jsonl);
                self.feed_batch(&report.transitions);
                Done::Batch(report)
            }
            Entry::Items(items) => {
                let report = if items.iter().all(|(_, tag)| tag.is_none()) {
                    self.engine.ingest_items(items.iter().map(|(body, _)| body))
                } else {
                    tagged_items(&mut self.engine, &items)
                };
                self.feed_batch(&report.transitions);
                Done::Batch(report)
            }
            Entry::Merge(bytes) => Done::Merged(self.merge(bytes)),
            Entry::Advance(now) => {
                let r = self.engine.advance(now);
                if let Ok(confirmed) = &r {
                    for t in confirmed {
                        self.feed.push(t.into());
                    }
                }
                Done::Advanced(r)
            }
            Entry::Observe { client_id, online, time } => {
                let r = self.engine.observe(client_id, online, time);
                if let Ok(Some(t)) = &r {
                    self.feed.push(t.into());
                }
                Done::One(r)
            }
        }
    }

    fn feed_batch(&mut self, transitions: &Transitions) {
        for t in transitions {
            self.feed.push(t);
        }
    }

    /// Merges a snapshot in; each client it flips enters the feed (in client id order), as
    /// caused by its latest open connect or its latest close.
    fn merge(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let other = crate::restore_engine(bytes)?;
        let before = self.engine.online_clients(None, None, None);
        self.engine.merge(&other)?;
        let after = self.engine.online_clients(None, None, None);
        let (mut i, mut j) = (0, 0);
        while i < before.len() || j < after.len() {
            let flipped = match (before.get(i), after.get(j)) {
                (Some(b), Some(a)) if b == a => {
                    i += 1;
                    j += 1;
                    continue;
                }
                (Some(b), Some(a)) if b < a => {
                    i += 1;
                    b
                }
                (Some(b), None) => {
                    i += 1;
                    b
                }
                (_, Some(a)) => {
                    j += 1;
                    a
                }
                (None, None) => break,
            };
            if let Some(t) = flip_of(&self.engine, flipped) {
                self.feed.push((&t).into());
            }
        }
        Ok(())
    }
}

/// The transition a merge caused for `client_id`: its newest open channel's connect, or its
/// latest close.
fn flip_of(engine: &StatusEngine, client_id: &str) -> Option<Transition> {
    use mqtt_status::{ChannelState, EventType};
    let c = engine.client(client_id)?;
    let last = c.last_event_time.unwrap_or(0);
    let (channel, event_type, time) = if c.online {
        let ch =
            c.channels.iter().filter(|ch| ch.state == ChannelState::Open).max_by_key(|ch| ch.connect_time);
        ch.map_or((String::new(), EventType::Connect, last), |ch| {
            (ch.channel_id.clone(), EventType::Connect, ch.connect_time.unwrap_or(last))
        })
    } else {
        let ch = c.channels.iter().filter(|ch| ch.close_time.is_some()).max_by_key(|ch| ch.close_time);
        ch.map_or((String::new(), EventType::TcpClean, last), |ch| {
            let by_disconnect = ch.close_time == ch.disconnect_time;
            let event = if by_disconnect { EventType::Disconnect } else { EventType::TcpClean };
            (ch.channel_id.clone(), event, ch.close_time.unwrap_or(last))
        })
    };
    let online = c.online;
    Some(Transition {
        client_id: c.client_id,
        online,
        time,
        channel_id: channel,
        event_type,
        offline_since: None,
    })
}

/// `ingest_items` with message tags, item by item (the engine's batch call takes no tags); the
/// same report the engine's batch gives.
fn tagged_items(engine: &mut StatusEngine, items: &[(&[u8], Option<&str>)]) -> BatchReport {
    let mut report = BatchReport::default();
    let mut transitions = Transitions::with_capacity(items.len(), 0);
    for (i, (body, tag)) in items.iter().enumerate() {
        match engine.ingest_json_detailed(body, *tag) {
            Ok((Outcome::Applied, t)) => {
                report.applied += 1;
                if let Some(t) = &t {
                    transitions.push(TransitionRef::from(t));
                }
            }
            Ok((Outcome::Duplicate, _)) => report.duplicates += 1,
            Ok((Outcome::Late, _)) => report.late += 1,
            Err(e) => report.errors.push(BatchError::new(i as u64, &e)),
        }
    }
    transitions.shrink_to_fit();
    report.transitions = transitions;
    report
}

/// `stats` with the ingest counters made this handle's own.
pub(crate) fn handle_stats(now: Stats, base: &Stats) -> Stats {
    Stats {
        events: now.events.saturating_sub(base.events),
        applied: now.applied.saturating_sub(base.applied),
        duplicates: now.duplicates.saturating_sub(base.duplicates),
        late: now.late.saturating_sub(base.late),
        rejected: now.rejected.saturating_sub(base.rejected),
        went_online: now.went_online.saturating_sub(base.went_online),
        went_offline: now.went_offline.saturating_sub(base.went_offline),
        ..now
    }
}
