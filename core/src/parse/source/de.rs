//! The exact read of a vendor line the vendor flat reader declined: serde_json with checked
//! keys, into the same [`Rec`], every JSON error reported. A repeated known key does not stop
//! the reading: it is remembered in the record and its value skipped, and the format's field
//! checks report it (the rule, shared with the ApsaraMQ format: `raw.rs`, `Repeats`). No
//! `serde_json::Value` is built: unknown values are skipped through the ApsaraMQ reader's `Skip`.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::fmt;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::super::de::Skip;
use super::super::raw::{self, Val};
use super::{Rec, F};
use crate::Error;

/// Reads one JSON object (and nothing else but whitespace) into `rec`.
pub(super) fn decode<'a>(bytes: &'a [u8], rec: &mut Rec<Cow<'a, str>>) -> Result<(), Error> {
    raw::count(raw::Read::Line);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let r = de.deserialize_map(RecVisitor { rec, nested: false }).and_then(|()| de.end());
    r.map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            return Error::InvalidJson { reason: String::from("expected a JSON object") };
        }
        Error::InvalidJson { reason: e.to_string() }
    })
}

struct RecVisitor<'r, 'a> {
    rec: &'r mut Rec<Cow<'a, str>>,
    nested: bool,
}

impl<'de> Visitor<'de> for RecVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed { nested: self.nested })? {
            let Some(f) = key else {
                map.next_value_seed(Skip)?;
                continue;
            };
            if self.rec.vacant(f).is_err() {
                // Remembered (reported by the field checks); the value is still read as JSON.
                map.next_value_seed(Skip)?;
                continue;
            }
            let data = f == F::Data && !self.nested;
            let v = map.next_value_seed(ValSeed { rec: data.then_some(&mut *self.rec) })?;
            self.rec.slots[f as usize] = Some(v);
        }
        Ok(())
    }
}

/// Reads a key as a checked string: its slot, or `None` for a key no format reads.
struct KeySeed {
    nested: bool,
}

impl Visitor<'_> for KeySeed {
    type Value = Option<F>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<F>, E> {
        Ok(F::of(v.as_bytes(), self.nested))
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<F>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<F>, D::Error> {
        d.deserialize_str(self)
    }
}

/// A known key's value; with `rec`, Azure's `data`, whose object's fields go into `rec`.
struct ValSeed<'r, 'a> {
    rec: Option<&'r mut Rec<Cow<'a, str>>>,
}

impl<'de> DeserializeSeed<'de> for ValSeed<'_, 'de> {
    type Value = Val<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValSeed<'_, 'de> {
    type Value = Val<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Owned(String::from(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Val::Uint(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(if v >= 0 { Val::Uint(v as u64) } else { Val::Negative })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(if v < 0.0 { Val::Negative } else { Val::Float(v) })
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Val::Bool)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(Val::Compound)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match self.rec {
            Some(rec) => RecVisitor { rec, nested: true }.visit_map(map).map(|()| Val::Object),
            None => Skip.visit_map(map).map(|()| Val::Compound),
        }
    }
}
