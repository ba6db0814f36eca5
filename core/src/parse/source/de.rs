//! The exact read of a vendor line the vendor flat reader declined: serde_json with checked
//! keys, into the same [`Rec`], every error reported (a repeated known key is `invalid_field`
//! naming it, as in the ApsaraMQ format). No `serde_json::Value` is built: unknown values are
//! skipped through the ApsaraMQ reader's `Skip`.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::fmt;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::super::de::Skip;
use super::super::raw::{self, Val};
use super::{Rec, F, NAMES};
use crate::Error;

/// Marker message for a repeated key, recognised when mapping serde errors.
const REPEATED: &str = "duplicate field ";

/// Reads one JSON object (and nothing else but whitespace) into `rec`.
pub(super) fn decode<'a>(bytes: &'a [u8], rec: &mut Rec<Cow<'a, str>>) -> Result<(), Error> {
    raw::count(raw::Read::Line);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let r = de.deserialize_map(RecVisitor { rec, nested: false }).and_then(|()| de.end());
    r.map_err(|e| {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix(REPEATED) {
            let field = NAMES.iter().copied().find(|f| rest.starts_with(f)).unwrap_or("data");
            return Error::invalid(field, "field appears twice");
        }
        if e.classify() == serde_json::error::Category::Data {
            return Error::InvalidJson { reason: String::from("expected a JSON object") };
        }
        Error::InvalidJson { reason: msg }
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
            if self.rec.get(f).is_some() {
                // Reported where the key is, ahead of anything wrong in its value.
                return Err(de::Error::custom(format_args!("{REPEATED}{}", f.name())));
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
