//! Observations (SPEC §9, `docs/semantics.md` "Observations"): an authoritative answer about a
//! client (the broker's query API) recorded as one more event.
//!
//! Per client only two numbers are kept, the latest offline and the latest online observation
//! (a max each, so order and duplicates do not matter and merge is a max). What they mean is
//! derived, like everything else:
//! - offline at T closes every channel connected at or before T that no event closed
//!   ([`Channel::live`](crate::channel::Channel::live)); a genuine close, earlier or later, wins
//!   for the channel's `closeTime`;
//! - online at T holds the client online while no close and no offline observation is later
//!   than T ([`Client::held_by_observation`]).

use alloc::string::String;

use crate::channel::NONE;
use crate::client::Client;
use crate::grace::Flip;
use crate::{Config, Error, EventType, Notification, Outcome, StatusEngine, Transition, MAX_TIME};

/// A client's latest observations ([`NONE`] where none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Obs {
    pub(crate) off: u64,
    pub(crate) on: u64,
}

impl Obs {
    /// Joins another record's observations (as if both had been observed); whether it changed.
    pub(crate) fn join(&mut self, other: &Obs) -> bool {
        let max = |a: u64, b: u64| {
            if a == NONE {
                b
            } else if b == NONE {
                a
            } else {
                a.max(b)
            }
        };
        let (off, on) = (max(self.off, other.off), max(self.on, other.on));
        let changed = (off, on) != (self.off, self.on);
        (self.off, self.on) = (off, on);
        changed
    }

    /// The latest observation time.
    pub(crate) fn latest(&self) -> Option<u64> {
        [self.off, self.on].into_iter().filter(|&t| t != NONE).max()
    }
}

impl Client {
    /// The latest offline observation, [`NONE`] if none.
    pub(crate) fn obs_off(&self) -> u64 {
        self.obs.as_ref().map_or(NONE, |o| o.off)
    }

    /// The latest online observation, [`NONE`] if none.
    pub(crate) fn obs_on(&self) -> u64 {
        self.obs.as_ref().map_or(NONE, |o| o.on)
    }

    /// Joins observations into this client's; whether anything changed.
    pub(crate) fn join_obs(&mut self, other: &Obs) -> bool {
        match &mut self.obs {
            Some(mine) => mine.join(other),
            None if other.off == NONE && other.on == NONE => false,
            None => {
                self.obs = Some(alloc::boxed::Box::new(other.clone()));
                true
            }
        }
    }

    /// Whether the latest online observation T holds the client online: no offline observation
    /// and no close (of any channel) later than T. At equal times the online answer holds.
    pub(crate) fn held_by_observation(&self, config: &Config) -> bool {
        let (off, on) = (self.obs_off(), self.obs_on());
        if on == NONE || (off != NONE && off > on) {
            return false;
        }
        !self.channels.as_slice().iter().any(|c| c.close_time(config).is_some_and(|t| t > on))
    }
}

/// An observation line of JSONL input (`{"observe": {"clientId": …, "online": …, "time": …}}`),
/// read as a batch reads it: `None` when `line` is not one (its first key is not `observe`),
/// else its `(client_id, online, time)` or the error a batch would report for it. For tools
/// that validate input without an engine (the CLI's `check`).
pub fn parse_observation_line(line: &[u8], max_id_len: u32) -> Option<Result<(String, bool, u64), Error>> {
    is_observation(line).then(|| parse_line(line, max_id_len))
}

/// Whether a JSONL line (or an `ingest_json` body) is read as an observation: its first key is
/// `observe`, `{"observe": {"clientId": …, "online": …, "time": …}}` (SPEC §9). The cheap test
/// every line pays: a byte or two for the usual `{"` line.
#[inline]
pub fn is_observation(line: &[u8]) -> bool {
    match line {
        [b'{', b'"', rest @ ..] => rest.starts_with(b"observe\""),
        [b'{', c, ..] | [c, ..] if c.is_ascii_whitespace() => {
            let rest = line.trim_ascii_start();
            rest.strip_prefix(b"{").is_some_and(|r| r.trim_ascii_start().starts_with(b"\"observe\""))
        }
        _ => false,
    }
}

/// An observation line `{"observe": {"clientId": "...", "online": false, "time": 1700000000000}}`:
/// `time` as in a notification (an integer or a string of digits); other keys are ignored.
/// Faults are reported in field order (clientId, online, time), `observe` itself when it is not
/// an object.
pub(crate) fn parse_line(line: &[u8], max_id_len: u32) -> Result<(String, bool, u64), Error> {
    use serde_json::Value;
    let v: Value =
        serde_json::from_slice(line).map_err(|e| Error::InvalidJson { reason: alloc::format!("{e}") })?;
    let Some(o) = v.get("observe").and_then(Value::as_object) else {
        return Err(Error::invalid("observe", "must be an object {clientId, online, time}"));
    };
    let client_id = match o.get("clientId") {
        None | Some(Value::Null) => return Err(Error::MissingField { field: "clientId" }),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Error::invalid("clientId", "must be a string")),
    };
    check_id(&client_id, max_id_len)?;
    let online = match o.get("online") {
        None | Some(Value::Null) => return Err(Error::MissingField { field: "online" }),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Error::invalid("online", "must be a boolean")),
    };
    let time = match o.get("time") {
        None | Some(Value::Null) => return Err(Error::MissingField { field: "time" }),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(t), _, _) => t,
            (None, Some(_), _) => return Err(Error::invalid("time", "must not be negative")),
            (_, _, Some(f)) if f < 0.0 => return Err(Error::invalid("time", "must not be negative")),
            (_, _, Some(f)) if f > MAX_TIME as f64 => {
                return Err(Error::invalid("time", "larger than 2^53 - 1"))
            }
            _ => return Err(Error::invalid("time", "must be an integer")),
        },
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            let digits = s.trim_start_matches('0');
            if digits.len() > 16 {
                return Err(Error::invalid("time", "larger than 2^53 - 1"));
            }
            digits.bytes().fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'))
        }
        Some(_) => return Err(Error::invalid("time", "must be an integer or a string of digits")),
    };
    check_time(time)?;
    Ok((client_id, online, time))
}

/// Whether `observe(client_id, _, time_ms)` would be accepted (the id non-empty and within
/// `max_id_len` bytes, the time within 2^53 − 1), else the error it would give: for a store that
/// must know before it logs or sends an observation.
pub fn check_observation(client_id: &str, time_ms: u64, max_id_len: u32) -> Result<(), Error> {
    check_id(client_id, max_id_len)?;
    check_time(time_ms)
}

fn check_id(client_id: &str, max_id_len: u32) -> Result<(), Error> {
    if client_id.is_empty() {
        return Err(Error::invalid("clientId", "must not be empty"));
    }
    if client_id.len() > max_id_len as usize {
        return Err(Error::invalid("clientId", alloc::format!("longer than {max_id_len} bytes")));
    }
    Ok(())
}

fn check_time(time: u64) -> Result<(), Error> {
    if time > MAX_TIME {
        return Err(Error::invalid("time", "larger than 2^53 - 1"));
    }
    Ok(())
}

/// The event an observation stands for in a transition: no channel, type `observe`.
pub(crate) fn cause(client_id: &str, time: u64) -> Notification<'_> {
    Notification {
        client_id,
        channel_id: "",
        event_type: EventType::Observe,
        time,
        client_ip: None,
        reason: None,
    }
}

impl StatusEngine {
    /// Records an authoritative answer about a client, e.g. from the broker's
    /// `QuerySessionByClientId`: `online == false` at `time_ms` closes every channel connected
    /// at or before then; `true` holds the client online until a close or an offline
    /// observation later than `time_ms`. One more event: order and duplicates do not matter, and
    /// snapshots and merges keep it. Returns the transition it caused (type `observe`, channelId
    /// `""`). An empty or too long id or a time beyond 2^53 − 1 is `invalid_field`, counted as a
    /// rejected input, and changes nothing.
    pub fn observe(
        &mut self,
        client_id: &str,
        online: bool,
        time_ms: u64,
    ) -> Result<Option<Transition>, Error> {
        let r = self.apply_observation(client_id, online, time_ms);
        self.count(r.as_ref().ok().map(|&(o, f)| (o, f.online())));
        let (_, flip) = r?;
        let mut out = None;
        self.emit(flip, &cause(client_id, time_ms), |t| out = Some(t.to_transition()));
        Ok(out)
    }

    /// [`observe`](Self::observe) that also says whether the observation was new (`Applied`)
    /// or already known (`Duplicate`): for stores, which report batches as the engine does.
    pub fn observe_detailed(
        &mut self,
        client_id: &str,
        online: bool,
        time_ms: u64,
    ) -> Result<(Outcome, Option<Transition>), Error> {
        let r = self.apply_observation(client_id, online, time_ms);
        self.count(r.as_ref().ok().map(|&(o, f)| (o, f.online())));
        let (outcome, flip) = r?;
        let mut out = None;
        self.emit(flip, &cause(client_id, time_ms), |t| out = Some(t.to_transition()));
        Ok((outcome, out))
    }

    /// An observation given as a JSON body (`ingest_json`): parsed, applied and counted. A tag
    /// is `tag_mismatch`: an observation is no broker message.
    pub(crate) fn ingest_observation(
        &mut self,
        body: &[u8],
        tag: Option<&str>,
    ) -> Result<(Outcome, Option<Transition>), Error> {
        let r = parse_line(body, self.config.max_id_len).and_then(|(id, online, time)| {
            if let Some(tag) = tag {
                return Err(Error::TagMismatch {
                    tag: String::from(tag),
                    event_type: String::from("observe"),
                });
            }
            let (outcome, flip) = self.apply_observation(&id, online, time)?;
            Ok((outcome, flip, id, time))
        });
        self.count(r.as_ref().ok().map(|&(o, f, _, _)| (o, f.online())));
        let (outcome, flip, id, time) = r?;
        let mut out = None;
        self.emit(flip, &cause(&id, time), |t| out = Some(t.to_transition()));
        Ok((outcome, out))
    }

    /// Applies a checked or unchecked observation (not counted).
    pub(crate) fn apply_observation(
        &mut self,
        client_id: &str,
        online: bool,
        time: u64,
    ) -> Result<(Outcome, Flip), Error> {
        check_observation(client_id, time, self.config.max_id_len)?;
        let idx = match self.find_client(client_id) {
            Some(i) => i,
            None => self.insert_client(client_id)?,
        };
        let before = self.rep(idx);
        let config = self.config;
        let client = &mut self.clients[idx as usize];
        let was = client.online;
        let seen = if online { Obs { off: NONE, on: time } } else { Obs { off: time, on: NONE } };
        if !client.join_obs(&seen) {
            return Ok((Outcome::Duplicate, Flip::None));
        }
        client.compact(&config);
        let flipped = self.settle(idx, was);
        Ok((Outcome::Applied, self.flip(idx, was, flipped, before, time)))
    }
}
