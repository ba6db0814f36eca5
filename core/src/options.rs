//! Options and query arguments as a host hands them over, checked in one place.
//!
//! A binding only says what kind of value it was given ([`OptionValue`]: a JavaScript `typeof`, a
//! Python type); which keys exist, which kinds and ranges they take, and every message live here,
//! so the Node, WebAssembly and Python bindings reject the same values with the same words.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{Config, Error, MAX_TIME};

/// One option or argument value, as the host holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// Not given: `undefined`, `null`, `None`. The option takes its default.
    Absent,
    /// A boolean.
    Bool(bool),
    /// A number (a JavaScript number; a Python `int` or `float`, `inf` when too large for one).
    Number(f64),
    /// A string.
    Text(String),
    /// Anything else (an object, an array, a function, a `BigInt`, bytes): always the wrong type.
    Other,
}

/// A whole options argument, as the host holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionsArg<I> {
    /// Not given (`undefined`, `null`, `None`): every option takes its default.
    Absent,
    /// An object's own keys and values (a JavaScript object, Python keyword arguments).
    Entries(I),
    /// Not an object (a string, a number, an array): always an error.
    Invalid,
}

impl OptionValue {
    /// `true`/`false`, or `None` when absent.
    pub fn boolean(&self, field: &'static str) -> Result<Option<bool>, Error> {
        match self {
            OptionValue::Absent => Ok(None),
            OptionValue::Bool(b) => Ok(Some(*b)),
            _ => Err(Error::invalid(field, "must be a boolean")),
        }
    }

    /// A whole number from 0 to `max` (at most 2^53, where every integer is a float), or `None`
    /// when absent.
    pub fn integer(&self, field: &'static str, max: u64) -> Result<Option<u64>, Error> {
        match self {
            OptionValue::Absent => Ok(None),
            // In range (NaN is not), then whole: `max` is at most 2^53, where the comparison and
            // the cast are exact (`f64::fract` is not in `core`).
            OptionValue::Number(n) if *n >= 0.0 && *n <= max as f64 && (*n as u64) as f64 == *n => {
                Ok(Some(*n as u64))
            }
            _ => Err(Error::invalid(field, format!("must be an integer between 0 and {max}"))),
        }
    }

    /// A string, or `None` when absent.
    pub fn text(self, field: &'static str) -> Result<Option<String>, Error> {
        match self {
            OptionValue::Absent => Ok(None),
            OptionValue::Text(s) => Ok(Some(s)),
            _ => Err(Error::invalid(field, "must be a string")),
        }
    }

    /// A string that must be given (`clientId`).
    pub fn required_text(self, field: &'static str) -> Result<String, Error> {
        match self {
            OptionValue::Text(s) => Ok(s),
            _ => Err(Error::invalid(field, "must be a string")),
        }
    }

    /// A whole number that must be given (a time, a limit): absent is `missing_field`, anything
    /// but an integer from 0 to 2^53 `invalid_field` (the method taking it then checks its own
    /// range, e.g. a time at most 2^53 − 1, and says what is too large).
    pub fn required_integer(&self, field: &'static str) -> Result<u64, Error> {
        match self {
            OptionValue::Absent => Err(Error::MissingField { field }),
            v => Ok(v.integer(field, 1 << 53)?.unwrap_or(0)),
        }
    }

    /// The value of a JSON document, as a host would hand it over.
    fn from_json(v: serde_json::Value) -> Self {
        use serde_json::Value;
        match v {
            Value::Null => OptionValue::Absent,
            Value::Bool(b) => OptionValue::Bool(b),
            Value::Number(n) => n.as_f64().map_or(OptionValue::Other, OptionValue::Number),
            Value::String(s) => OptionValue::Text(s),
            Value::Array(_) | Value::Object(_) => OptionValue::Other,
        }
    }
}

/// The entries of `arg` with each known key's value in `keys` order (absent when not given), or
/// the error for a non-object or an unknown key (`what` names the argument: `options`, `query`).
fn entries<I, K, const N: usize>(
    arg: OptionsArg<I>,
    keys: [&str; N],
    what: &'static str,
) -> Result<[OptionValue; N], Error>
where
    I: IntoIterator<Item = (K, OptionValue)>,
    K: AsRef<str>,
{
    let mut values = [const { OptionValue::Absent }; N];
    let entries = match arg {
        OptionsArg::Absent => return Ok(values),
        OptionsArg::Invalid => return Err(Error::invalid(what, "must be an object")),
        OptionsArg::Entries(e) => e,
    };
    for (key, value) in entries {
        let key = key.as_ref();
        let Some(i) = keys.iter().position(|k| *k == key) else {
            let reason = format!("unknown option {key:?} (expected one of {})", keys.join(", "));
            return Err(Error::invalid(what, reason));
        };
        values[i] = value;
    }
    Ok(values)
}

/// The options argument of a JSON document: an object's entries, `null` absent, else invalid.
fn json_arg(json: &[u8]) -> Result<OptionsArg<Vec<(String, OptionValue)>>, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::InvalidJson { reason: format!("{e}") })?;
    Ok(match value {
        serde_json::Value::Null => OptionsArg::Absent,
        serde_json::Value::Object(map) => {
            OptionsArg::Entries(map.into_iter().map(|(k, v)| (k, OptionValue::from_json(v))).collect())
        }
        _ => OptionsArg::Invalid,
    })
}

impl Config {
    /// The configuration from a host's options (`closeOnDisconnect`, `takeover`,
    /// `tombstonesPerClient`, `maxIdLen`, `maxOpenChannels`, `source`, `offlineGraceMs`; absent
    /// ones take their defaults),
    /// checked: an unknown
    /// key is `invalid_field` on `options`, a mistyped or out-of-range value `invalid_field` on
    /// its key.
    pub fn from_options<I, K>(arg: OptionsArg<I>) -> Result<Config, Error>
    where
        I: IntoIterator<Item = (K, OptionValue)>,
        K: AsRef<str>,
    {
        let keys = [
            "closeOnDisconnect",
            "takeover",
            "tombstonesPerClient",
            "maxIdLen",
            "maxOpenChannels",
            "source",
            "offlineGraceMs",
        ];
        let [close, takeover, tombstones, max_id, max_open, source, grace] = entries(arg, keys, "options")?;
        let d = Config::default();
        let int = |v: &OptionValue, f| v.integer(f, u32::MAX.into()).map(|n| n.map(|n| n as u32));
        let config = Config {
            close_on_disconnect: close.boolean("closeOnDisconnect")?.unwrap_or(d.close_on_disconnect),
            takeover: takeover.boolean("takeover")?.unwrap_or(d.takeover),
            tombstones_per_client: int(&tombstones, "tombstonesPerClient")?
                .unwrap_or(d.tombstones_per_client),
            max_id_len: int(&max_id, "maxIdLen")?.unwrap_or(d.max_id_len),
            max_open_channels: int(&max_open, "maxOpenChannels")?.unwrap_or(d.max_open_channels),
            source: match source.text("source")? {
                Some(name) => crate::Source::parse(&name)?,
                None => d.source,
            },
            offline_grace_ms: grace.integer("offlineGraceMs", MAX_TIME)?.unwrap_or(d.offline_grace_ms),
        };
        config.validate()?;
        Ok(config)
    }

    /// [`from_options`](Self::from_options) of a JSON object (`null` for all defaults), e.g.
    /// `{"takeover":true}`; text that is not JSON is `invalid_json`.
    pub fn from_json(json: &[u8]) -> Result<Config, Error> {
        Config::from_options(json_arg(json)?)
    }
}

/// The arguments of [`StatusEngine::online_clients`](crate::StatusEngine::online_clients), checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineQuery {
    /// Only clients of this group.
    pub group: Option<String>,
    /// Exclusive cursor: the last client id of the previous page.
    pub after: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
}

impl OnlineQuery {
    /// The query from a host's `{group, after, limit}` (`invalid_field` on `query` for an
    /// unknown key, on the key for a mistyped value; `limit` from 0 to 2^53 − 1).
    pub fn from_options<I, K>(arg: OptionsArg<I>) -> Result<OnlineQuery, Error>
    where
        I: IntoIterator<Item = (K, OptionValue)>,
        K: AsRef<str>,
    {
        let [group, after, limit] = entries(arg, ["group", "after", "limit"], "query")?;
        let limit = limit.integer("limit", MAX_TIME)?;
        Ok(OnlineQuery {
            group: group.text("group")?,
            after: after.text("after")?,
            limit: limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
        })
    }

    /// [`from_options`](Self::from_options) of a JSON object (`null` for none).
    pub fn from_json(json: &[u8]) -> Result<OnlineQuery, Error> {
        OnlineQuery::from_options(json_arg(json)?)
    }
}

/// The options of a batch ingest, checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// Events with a time after this are skipped without counting (0 to 2^53 − 1).
    pub until: Option<u64>,
}

impl BatchOptions {
    /// The options from a host's `{until}` (`invalid_field` on `options` for an unknown key, on
    /// `until` for a value that is not an integer from 0 to 2^53 − 1).
    pub fn from_options<I, K>(arg: OptionsArg<I>) -> Result<BatchOptions, Error>
    where
        I: IntoIterator<Item = (K, OptionValue)>,
        K: AsRef<str>,
    {
        let [until] = entries(arg, ["until"], "options")?;
        Ok(BatchOptions { until: until.integer("until", MAX_TIME)? })
    }

    /// [`from_options`](Self::from_options) of a JSON object (`null` for none).
    pub fn from_json(json: &[u8]) -> Result<BatchOptions, Error> {
        BatchOptions::from_options(json_arg(json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn field(e: Error) -> (&'static str, String) {
        (e.field().unwrap_or("-"), e.to_string())
    }

    #[test]
    fn config_from_json() {
        assert_eq!(Config::from_json(b"null"), Ok(Config::default()));
        assert_eq!(Config::from_json(b"{}"), Ok(Config::default()));
        let c =
            Config::from_json(br#"{"takeover":true,"maxIdLen":65535,"tombstonesPerClient":null}"#).unwrap();
        assert_eq!((c.takeover, c.max_id_len, c.tombstones_per_client), (true, 65535, 8));
        let bad = |j: &str| field(Config::from_json(j.as_bytes()).unwrap_err());
        assert_eq!(bad(r#"{"takeover":1}"#).0, "takeover");
        assert_eq!(bad(r#"{"maxIdLen":0}"#).0, "maxIdLen");
        assert_eq!(bad(r#"{"maxIdLen":1.5}"#).0, "maxIdLen");
        assert_eq!(bad(r#"{"tombstonesPerClient":-1}"#).0, "tombstonesPerClient");
        assert_eq!(bad(r#"{"tombstonesPerClient":1025}"#).0, "tombstonesPerClient");
        let (f, m) = bad(r#"{"closeOnDisconect":true}"#);
        assert_eq!(f, "options");
        assert!(m.contains(r#"unknown option "closeOnDisconect""#), "{m}");
        assert_eq!(bad(r#""takeover""#).0, "options");
        assert_eq!(Config::from_json(b"{").unwrap_err().code().as_str(), "invalid_json");
    }

    #[test]
    fn query_and_batch_options() {
        let q = OnlineQuery::from_json(br#"{"group":"G","limit":2}"#).unwrap();
        assert_eq!(q, OnlineQuery { group: Some("G".into()), after: None, limit: Some(2) });
        assert_eq!(field(OnlineQuery::from_json(br#"{"limit":-1}"#).unwrap_err()).0, "limit");
        let huge = OptionsArg::Entries(vec![("limit", OptionValue::Number(f64::INFINITY))]);
        assert_eq!(field(OnlineQuery::from_options(huge).unwrap_err()).0, "limit");
        assert_eq!(field(OnlineQuery::from_json(br#"{"page":2}"#).unwrap_err()).0, "query");
        assert_eq!(field(OnlineQuery::from_json(br#"{"group":5}"#).unwrap_err()).0, "group");
        assert_eq!(BatchOptions::from_json(br#"{"until":9007199254740991}"#).unwrap().until, Some(MAX_TIME));
        assert_eq!(field(BatchOptions::from_json(br#"{"until":9007199254740992}"#).unwrap_err()).0, "until");
        assert_eq!(field(BatchOptions::from_json(br#"{"untill":5}"#).unwrap_err()).0, "options");
        assert_eq!(field(OptionValue::Number(f64::NAN).integer("until", 5).unwrap_err()).0, "until");
        assert_eq!(OptionValue::Other.required_text("clientId").unwrap_err().field(), Some("clientId"));
    }
}

/// `observe`'s arguments `(clientId, online, time)` as a host hands them over, checked here so
/// every binding rejects the same values with the same words (SPEC §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserveArgs {
    /// The observed client.
    pub client_id: String,
    /// What the query API answered.
    pub online: bool,
    /// When, in milliseconds.
    pub time_ms: u64,
}

impl ObserveArgs {
    /// Checks the three values: `clientId` a string, `online` a boolean (absent too is "must be
    /// a boolean": there is no default), `time` a required whole number.
    pub fn from_values(
        client_id: OptionValue,
        online: OptionValue,
        time: OptionValue,
    ) -> Result<Self, Error> {
        let client_id = client_id.required_text("clientId")?;
        let OptionValue::Bool(online) = online else {
            return Err(Error::invalid("online", "must be a boolean"));
        };
        Ok(ObserveArgs { client_id, online, time_ms: time.required_integer("time")? })
    }
}
