//! What both readers (`flat.rs`, `de.rs`) produce: a line's known fields as loosely typed values,
//! before validation (`validate.rs`), and the rules every reader shares — which keys are known,
//! that a known key may appear once ([`Repeats`]: a repeat is remembered and reported in field
//! order, in every format), and which object is read as a nested body.
//!
//! Values stay loosely typed so that a mistyped field gets `invalid_field` naming that field
//! instead of a generic parse error. Strings are of type `S`: `&str` from the flat reader,
//! which only borrows (so its records need no drop glue: dropping one costs nothing), and
//! `Cow<str>` from serde_json, which unescapes into owned strings.

use crate::Error;

/// A field value before validation; `S` is a string as its reader gives it.
pub(super) enum Val<S> {
    Str(S),
    Uint(u64),
    Negative,
    Float(f64),
    Bool,
    Null,
    /// An array, or an object that is not an envelope's body.
    Compound,
    /// An envelope's body object, or a body string read where it lies: its fields are in the
    /// line's [`Line::inner`].
    Object,
    /// An envelope's body string with escapes: its unescaped text is in the caller's buffer
    /// (decoded after the envelope, see `envelope.rs`).
    Unescaped,
}

/// The known fields of one JSON object: a bare body, an envelope (`tag` + `body`), or an
/// envelope's body.
pub(super) struct Raw<S> {
    pub(super) client_id: Option<Val<S>>,
    pub(super) channel_id: Option<Val<S>>,
    pub(super) event_type: Option<Val<S>>,
    pub(super) time: Option<Val<S>>,
    pub(super) client_ip: Option<Val<S>>,
    pub(super) tag: Option<Val<S>>,
    pub(super) body: Option<Val<S>>,
    /// The known keys seen more than once (by [`Key`], its index in [`FIELDS`]).
    pub(super) repeats: Repeats,
}

impl<S> Default for Raw<S> {
    fn default() -> Self {
        Raw {
            client_id: None,
            channel_id: None,
            event_type: None,
            time: None,
            client_ip: None,
            tag: None,
            body: None,
            repeats: Repeats::default(),
        }
    }
}

/// A decoded line: its top-level object and, when that is an envelope whose body is an object
/// (or a string read in place), the body's fields. Kept side by side rather than boxed so that
/// reading an envelope allocates nothing.
pub(super) struct Line<S> {
    pub(super) outer: Raw<S>,
    pub(super) inner: Raw<S>,
}

impl<S> Default for Line<S> {
    fn default() -> Self {
        Line { outer: Raw::default(), inner: Raw::default() }
    }
}

/// A key of a notification object; every other key is [`Key::Other`], read and ignored. The
/// known keys are numbered as in [`FIELDS`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    ClientId = 0,
    ChannelId,
    EventType,
    Time,
    ClientIp,
    Tag,
    Body,
    Other,
}

/// The known keys by name, in the order `invalid_field` errors name them.
pub(super) const FIELDS: [&str; 7] =
    ["clientId", "channelId", "eventType", "time", "clientIp", "tag", "body"];

impl Key {
    /// The key named by `name` (the exact bytes of an unescaped key).
    #[inline(always)]
    pub(super) fn of(name: &[u8]) -> Key {
        match name {
            b"clientId" => Key::ClientId,
            b"channelId" => Key::ChannelId,
            b"eventType" => Key::EventType,
            b"time" => Key::Time,
            b"clientIp" => Key::ClientIp,
            b"tag" => Key::Tag,
            b"body" => Key::Body,
            _ => Key::Other,
        }
    }
}

/// A known key seen again in one object: its value is to be read (still as JSON) and dropped.
pub(super) struct Repeated;

/// The known keys of one object seen more than once, one bit per key (its index in its
/// format's list of field names: [`FIELDS`], or the vendor formats' `source::NAMES`).
///
/// With [`take`](Self::take) and [`first`](Self::first), the one statement of "a repeated key
/// is an error", for the ApsaraMQ format and every vendor format (SPEC §10) alike: a repeat
/// does not stop the reading (so invalid JSON after it is still `invalid_json`, as SPEC §1
/// wants first); it is remembered here, its value skipped by the reader (the flat readers
/// simply decline, and serde_json reads the line again), and reported by the field checks at
/// the field's place in the field order, the first value kept meanwhile. Only a key the
/// format reads is checked: a repeat of any other key is ignored, as the key itself is.
#[derive(Clone, Copy, Default)]
pub(super) struct Repeats(u32);

impl Repeats {
    /// `slot` (key number `index`'s) if it is still empty; else the repeat is remembered.
    #[inline(always)]
    pub(super) fn take<'s, T>(
        &mut self,
        index: u32,
        slot: &'s mut Option<T>,
    ) -> Result<&'s mut Option<T>, Repeated> {
        if slot.is_some() {
            self.0 |= 1 << index;
            return Err(Repeated);
        }
        Ok(slot)
    }

    /// Whether any key repeated.
    #[inline(always)]
    pub(super) fn any(self) -> bool {
        self.0 != 0
    }

    /// The fault of the first key of `mask` (bits by index) that repeated, named by `names`.
    #[inline]
    pub(super) fn first(self, mask: u32, names: &[&'static str]) -> Result<(), Error> {
        match self.0 & mask {
            0 => Ok(()),
            m => Err(Error::invalid(names[m.trailing_zeros() as usize], "field appears twice")),
        }
    }
}

impl<S> Raw<S> {
    /// Where `key`'s value goes: `None` for an unknown key (its value is read and ignored);
    /// `Err` for a repeat ([`Repeats`] states the rule).
    #[inline(always)]
    pub(super) fn vacant(&mut self, key: Key) -> Result<Option<&mut Option<Val<S>>>, Repeated> {
        let slot = match key {
            Key::ClientId => &mut self.client_id,
            Key::ChannelId => &mut self.channel_id,
            Key::EventType => &mut self.event_type,
            Key::Time => &mut self.time,
            Key::ClientIp => &mut self.client_ip,
            Key::Tag => &mut self.tag,
            Key::Body => &mut self.body,
            Key::Other => return Ok(None),
        };
        self.repeats.take(key as u32, slot).map(Some)
    }

    /// Whether any known key appeared more than once in this object.
    #[inline(always)]
    pub(super) fn any_repeated(&self) -> bool {
        self.repeats.any()
    }

    /// The fault of `key` if it appeared more than once in this object: checked by
    /// `validate.rs` and `envelope.rs` where that field is checked, and only where the key is
    /// known (a bare body's `tag`, say, is an unknown field, so its repeats are ignored too).
    #[inline(always)]
    pub(super) fn repeated(&self, key: Key) -> Result<(), Error> {
        self.repeats.first(1 << key as u32, &FIELDS)
    }

    /// [`repeated`](Self::repeated) for every key of [`FIELDS`] up to `key`, the first one
    /// in that order reported.
    #[inline]
    pub(super) fn repeated_up_to(&self, key: Key) -> Result<(), Error> {
        self.repeats.first((2 << key as u32) - 1, &FIELDS)
    }
}

/// Whether `key`'s value is read as the envelope's body, into `target` (where a body goes;
/// given only at the top level of a line): only a top-level `body`. Any other object is
/// skipped as a [`Val::Compound`], so a body inside a body is a value like any other and
/// `envelope.rs` alone refuses it ("an envelope inside an envelope").
#[inline(always)]
pub(super) fn nested<T>(key: Key, target: Option<T>) -> Option<T> {
    if key == Key::Body {
        target
    } else {
        None
    }
}

/// What a reader run reads (tests count them: see `tests.rs`). Kept in this leaf module so
/// that the readers depend on nothing above them.
#[derive(Clone, Copy)]
pub(super) enum Read {
    /// A whole line (an envelope's body string read in place included).
    Line,
    /// An envelope's body string, unescaped, read after the envelope.
    Body,
}

#[cfg(all(test, feature = "std"))]
std::thread_local! {
    /// Reader runs on this thread: (whole lines, body strings).
    pub(super) static READS: core::cell::Cell<(u32, u32)> = const { core::cell::Cell::new((0, 0)) };
}

/// Counts one reader run (tests only; nothing otherwise).
#[inline(always)]
pub(super) fn count(_what: Read) {
    #[cfg(all(test, feature = "std"))]
    READS.with(|c| {
        let (l, b) = c.get();
        c.set(match _what {
            Read::Line => (l + 1, b),
            Read::Body => (l, b + 1),
        });
    });
}
