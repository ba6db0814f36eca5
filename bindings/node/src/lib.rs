//! Native Node.js addon of `mqtt-status` (napi-rs): the npm package `mqtt-status-native`, which
//! the package `mqtt-status` loads when it is installed (falling back to WebAssembly otherwise).
//!
//! This crate only converts, rule for rule like `bindings/wasm`: JavaScript values in (strings,
//! bytes, or objects serialized with the host's own `JSON.stringify`), core calls, core answers
//! out as plain objects (the core's serde JSON read back with the host's `JSON.parse`, so the
//! shape is exactly the one the WebAssembly build gives: `null`, never `undefined`); batch reports
//! packed (`mqtt-status-js-common`) for the npm package to unpack. Every judgment lives in the
//! core. Errors are thrown as real `Error` objects carrying `.code` and `.field`.

use std::cell::{Ref, RefCell, RefMut};

use mqtt_status::{Config, Error as CoreError, StatusEngine as Engine, TransitionRef, MAX_TIME};
use mqtt_status_js_common::{explain_failed, explain_one, pack_transition, Owned, Packer, EVENT_TYPES};
use napi::bindgen_prelude::*;
use napi::{JsString, JsValue, ValueType};
use napi_derive::napi;

/// The thrown `Error`: message, `.code` and `.field` (`null` when no single field is at fault).
fn js_error(env: &Env, e: &CoreError) -> Error {
    let build = || -> Result<Error> {
        let err = JsError::from(Error::new(e.code().as_str(), e.to_string())).into_unknown(*env);
        let mut obj = err.coerce_to_object()?;
        match e.field() {
            Some(f) => obj.set_named_property("field", f)?,
            None => obj.set_named_property("field", Null)?,
        }
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

fn invalid(env: &Env, field: &'static str, reason: &str) -> Error {
    js_error(env, &CoreError::InvalidField { field, reason: reason.into() })
}

/// The global `JSON` object.
fn json<'e>(env: &'e Env) -> Result<Object<'e>> {
    env.get_global()?.get_named_property::<Object<'_>>("JSON")
}

/// A plain JS value from a core answer: its serde JSON read back with `JSON.parse`.
fn to_js<'e, T: serde::Serialize>(env: &'e Env, value: &T) -> Result<Unknown<'e>> {
    let text = serde_json::to_string(value).map_err(|e| Error::from_reason(e.to_string()))?;
    let parse = json(env)?.get_named_property::<Function<'_, String, Unknown<'_>>>("parse")?;
    parse.call(text)
}

fn is_absent(v: &Unknown<'_>) -> Result<bool> {
    Ok(matches!(v.get_type()?, ValueType::Undefined | ValueType::Null))
}

fn string_of(v: Unknown<'_>) -> Result<String> {
    let s: JsString<'_> = v.coerce_to_string()?;
    s.into_utf8()?.into_owned()
}

/// Runs `f` on the bytes of a string, `Uint8Array` (`Buffer`) or `ArrayBuffer`, if `v` is one;
/// typed arrays and buffers are borrowed, not copied (a batch can be hundreds of megabytes).
fn with_raw_bytes<R>(env: &Env, v: Unknown<'_>, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
    if v.get_type()? == ValueType::String {
        let s: JsString<'_> = v.coerce_to_string()?;
        return Ok(Some(f(s.into_utf8()?.as_slice())));
    }
    if v.is_typedarray()? {
        // SAFETY: `v` is a live typed array of this env; `from_napi_value` checks its element
        // type and fails for anything but a Uint8Array. No JavaScript runs while `f` reads it.
        if let Ok(slice) = unsafe { Uint8ArraySlice::from_napi_value(env.raw(), v.raw()) } {
            return Ok(Some(f(slice.as_ref())));
        }
    } else if v.is_arraybuffer()? {
        // SAFETY: `v` is a live ArrayBuffer of this env (checked just above).
        let buffer = unsafe { ArrayBuffer::from_napi_value(env.raw(), v.raw()) }?;
        return Ok(Some(f(buffer.as_ref())));
    }
    Ok(None)
}

/// The bytes of a string, `Uint8Array` (`Buffer`) or `ArrayBuffer`, if `v` is one, copied.
fn raw_bytes(env: &Env, v: Unknown<'_>) -> Result<Option<Vec<u8>>> {
    with_raw_bytes(env, v, <[u8]>::to_vec)
}

/// One body: raw text/bytes as they are, anything else through the host's `JSON.stringify`.
fn body(env: &Env, v: Unknown<'_>) -> Result<Owned> {
    match raw_bytes(env, v)? {
        Some(b) => Ok(Owned::Bytes(b)),
        None => stringified(env, v),
    }
}

/// A value that is not text or bytes, through the host's `JSON.stringify`.
fn stringified(env: &Env, v: Unknown<'_>) -> Result<Owned> {
    let stringify = json(env)?.get_named_property::<Function<'_, Unknown<'_>, Unknown<'_>>>("stringify")?;
    match stringify.call(v) {
        Ok(s) if s.get_type()? == ValueType::String => Ok(Owned::Bytes(string_of(s)?.into_bytes())),
        Ok(_) => Ok(Owned::Failed("it gives no text".into())),
        Err(e) => {
            // The exception thrown by JSON.stringify (a TypeError) is pending: take its message.
            let reason = if e.reason.is_empty() { "it throws".into() } else { e.reason.clone() };
            let reason = reason.strip_prefix("TypeError: ").map(String::from).unwrap_or(reason);
            Ok(Owned::Failed(reason))
        }
    }
}

/// Rejects keys other than `allowed` (so a misspelt option is an error, not a silent default).
fn check_keys<'e>(env: &'e Env, v: Unknown<'e>, allowed: &[&str], what: &'static str) -> Result<Object<'e>> {
    if v.get_type()? != ValueType::Object || v.is_array()? {
        return Err(invalid(env, what, "must be an object"));
    }
    let obj = v.coerce_to_object()?;
    let object_ctor = env.get_global()?.get_named_property::<Unknown<'_>>("Object")?.coerce_to_object()?;
    let keys_fn = object_ctor.get_named_property::<Function<'_, Unknown<'_>, Array<'_>>>("keys")?;
    let keys = keys_fn.call(v)?;
    for i in 0..keys.len() {
        let key: String = keys.get::<String>(i)?.unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let reason = format!("unknown option {key:?} (expected one of {})", allowed.join(", "));
            return Err(js_error(env, &CoreError::InvalidField { field: what, reason }));
        }
    }
    Ok(obj)
}

fn opt_bool(env: &Env, v: Unknown<'_>, field: &'static str, default: bool) -> Result<bool> {
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(default),
        ValueType::Boolean => v.coerce_to_bool(),
        _ => Err(invalid(env, field, "must be a boolean")),
    }
}

/// A non-negative integer up to `max` (JS numbers only).
fn opt_uint(env: &Env, v: Unknown<'_>, field: &'static str, max: u64) -> Result<Option<u64>> {
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Number => {
            let n = v.coerce_to_number()?.get_double()?;
            if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max as f64 {
                Ok(Some(n as u64))
            } else {
                Err(invalid(env, field, &format!("must be an integer between 0 and {max}")))
            }
        }
        _ => Err(invalid(env, field, &format!("must be an integer between 0 and {max}"))),
    }
}

fn opt_string(env: &Env, v: Option<Unknown<'_>>, field: &'static str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(v) => match v.get_type()? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            ValueType::String => string_of(v).map(Some),
            _ => Err(invalid(env, field, "must be a string")),
        },
    }
}

fn string_arg(env: &Env, v: Unknown<'_>, field: &'static str) -> Result<String> {
    if v.get_type()? == ValueType::String {
        string_of(v)
    } else {
        Err(invalid(env, field, "must be a string"))
    }
}

fn freed() -> Error {
    Error::from_reason("StatusEngine was freed")
}

fn busy() -> Error {
    Error::from_reason("StatusEngine is busy (re-entrant call)")
}

/// The status engine: feed it notifications, ask who is online.
#[napi(js_name = "StatusEngine")]
pub struct NodeStatusEngine {
    inner: RefCell<Option<Engine>>,
}

impl NodeStatusEngine {
    fn engine(&self) -> Result<Ref<'_, Engine>> {
        let r = self.inner.try_borrow().map_err(|_| busy())?;
        Ref::filter_map(r, Option::as_ref).map_err(|_| freed())
    }

    fn engine_mut(&self) -> Result<RefMut<'_, Engine>> {
        let r = self.inner.try_borrow_mut().map_err(|_| busy())?;
        RefMut::filter_map(r, Option::as_mut).map_err(|_| freed())
    }

    fn wrap(engine: Engine) -> Self {
        NodeStatusEngine { inner: RefCell::new(Some(engine)) }
    }
}

#[napi]
impl NodeStatusEngine {
    /// `new StatusEngine({closeOnDisconnect, takeover, tombstonesPerClient, maxIdLen,
    /// maxOpenChannels})`; every
    /// option is optional. Unknown or mistyped options throw `invalid_field`.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let mut config = Config::default();
        if let Some(options) = options.filter(|o| !is_absent(o).unwrap_or(true)) {
            let keys =
                ["closeOnDisconnect", "takeover", "tombstonesPerClient", "maxIdLen", "maxOpenChannels"];
            let obj = check_keys(&env, options, &keys, "options")?;
            let get = |k: &str| obj.get_named_property::<Unknown<'_>>(k);
            config.close_on_disconnect =
                opt_bool(&env, get("closeOnDisconnect")?, "closeOnDisconnect", config.close_on_disconnect)?;
            config.takeover = opt_bool(&env, get("takeover")?, "takeover", config.takeover)?;
            let t = opt_uint(&env, get("tombstonesPerClient")?, "tombstonesPerClient", u32::MAX.into())?;
            config.tombstones_per_client = t.map_or(config.tombstones_per_client, |t| t as u32);
            let m = opt_uint(&env, get("maxIdLen")?, "maxIdLen", u32::MAX.into())?;
            config.max_id_len = m.map_or(config.max_id_len, |m| m as u32);
            let o = opt_uint(&env, get("maxOpenChannels")?, "maxOpenChannels", u32::MAX.into())?;
            config.max_open_channels = o.map_or(config.max_open_channels, |o| o as u32);
        }
        Engine::new(config).map(Self::wrap).map_err(|e| js_error(&env, &e))
    }

    /// Ingests one body or envelope (string, `Uint8Array` or object) with an optional tag;
    /// returns `null`, or the transition packed as `[text, clientIdEnd, time, flags]` (see
    /// `mqtt-status-js-common`), which the npm package's `ingest` unpacks.
    #[napi(js_name = "_ingestPacked")]
    pub fn ingest_packed<'e>(
        &self,
        env: &'e Env,
        input: Unknown<'e>,
        tag: Option<Unknown<'e>>,
    ) -> Result<Unknown<'e>> {
        let tag = opt_string(env, tag, "tag")?;
        let result = match with_raw_bytes(env, input, |bytes| {
            self.engine_mut().map(|mut e| e.ingest_json(bytes, tag.as_deref()))
        })? {
            Some(result) => result?.map_err(|e| js_error(env, &e)),
            None => {
                let item = stringified(env, input)?;
                let result = self.engine_mut()?.ingest_json(item.bytes(), tag.as_deref());
                explain_one(result, &item).map_err(|e| js_error(env, &e))
            }
        };
        let Some(t) = result? else {
            return Null.into_unknown(env);
        };
        let (text, [client_end, time, flags]) = pack_transition(TransitionRef::from(&t));
        let mut out = env.create_array(4)?;
        out.set(0, text)?;
        out.set(1, client_end)?;
        out.set(2, time)?;
        out.set(3, flags)?;
        out.into_unknown(env)
    }

    /// The event type names, in the order of the codes in packed transitions.
    #[napi(js_name = "_eventTypes")]
    pub fn event_types() -> Vec<&'static str> {
        EVENT_TYPES.map(|t| t.as_str()).to_vec()
    }

    /// Ingests JSONL (string or bytes, one body or envelope per line) or an array of bodies;
    /// `options.until` skips events after that time. Returns the batch report packed as
    /// `[head, text, cols]` (see `mqtt-status-js-common`), which the npm package's
    /// `ingestMany` unpacks.
    #[napi(js_name = "_ingestManyPacked")]
    pub fn ingest_many_packed<'e>(
        &self,
        env: &'e Env,
        input: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> Result<Array<'e>> {
        let mut until = None;
        if let Some(options) = options.filter(|o| !is_absent(o).unwrap_or(true)) {
            let obj = check_keys(env, options, &["until"], "options")?;
            until = opt_uint(env, obj.get_named_property::<Unknown<'_>>("until")?, "until", MAX_TIME)?;
        }
        let mut packer = Packer::new();
        let report = if let Some(report) = with_raw_bytes(env, input, |bytes| {
            packer.reserve_for_jsonl(bytes.len());
            self.engine_mut().map(|mut e| e.ingest_many_each(bytes, until, |t| packer.push(t)))
        })? {
            report?
        } else {
            if !input.is_array()? {
                return Err(invalid(env, "input", "must be a string, a Uint8Array or an array"));
            }
            // SAFETY: `input` is a live JS array of this env (checked just above).
            let array = unsafe { Array::from_napi_value(env.raw(), input.raw()) }?;
            let mut items = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item = array.get::<Unknown<'_>>(i)?.map_or_else(|| ().into_unknown(env), Ok)?;
                items.push(body(env, item)?);
            }
            let bytes = items.iter().map(Owned::bytes);
            let mut report = self.engine_mut()?.ingest_items_each(bytes, until, |t| packer.push(t));
            explain_failed(&mut report, &items);
            report
        };
        let packed = packer.finish(&report);
        let mut out = env.create_array(3)?;
        out.set(0, packed.head)?;
        out.set(1, packed.text)?;
        out.set(2, Float64Array::new(packed.cols))?;
        Ok(out)
    }

    /// Whether the client has an open channel (an unknown client is offline).
    #[napi(js_name = "isOnline")]
    pub fn is_online(&self, env: Env, client_id: Unknown<'_>) -> Result<bool> {
        let id = string_arg(&env, client_id, "clientId")?;
        Ok(self.engine()?.is_online(&id))
    }

    /// Everything known about one client, or `null`.
    #[napi]
    pub fn client<'e>(&self, env: &'e Env, client_id: Unknown<'e>) -> Result<Unknown<'e>> {
        let id = string_arg(env, client_id, "clientId")?;
        let status = self.engine()?.client(&id);
        match status {
            Some(c) => to_js(env, &c),
            None => Null.into_unknown(env),
        }
    }

    /// Online client ids, sorted; `{group, after, limit}` filter and paginate.
    #[napi(js_name = "onlineClients")]
    pub fn online_clients(&self, env: Env, query: Option<Unknown<'_>>) -> Result<Vec<String>> {
        let (mut group, mut after, mut limit) = (None, None, None);
        if let Some(query) = query.filter(|q| !is_absent(q).unwrap_or(true)) {
            let obj = check_keys(&env, query, &["group", "after", "limit"], "query")?;
            let get = |k: &str| obj.get_named_property::<Unknown<'_>>(k);
            group = opt_string(&env, Some(get("group")?), "group")?;
            after = opt_string(&env, Some(get("after")?), "after")?;
            limit = opt_uint(&env, get("limit")?, "limit", MAX_TIME)?;
        }
        let limit = limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        Ok(self.engine()?.online_clients(group.as_deref(), after.as_deref(), limit))
    }

    /// Number of online clients, in all or in one group.
    #[napi(js_name = "countOnline")]
    pub fn count_online(&self, env: Env, group: Option<Unknown<'_>>) -> Result<f64> {
        let group = opt_string(&env, group, "group")?;
        Ok(self.engine()?.count_online(group.as_deref()) as f64)
    }

    /// Every group seen, sorted: `[{groupId, online, known}]`.
    #[napi]
    pub fn groups<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let groups = self.engine()?.groups();
        to_js(env, &groups)
    }

    /// Engine-wide counters and gauges.
    #[napi]
    pub fn stats<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let stats = self.engine()?.stats();
        to_js(env, &stats)
    }

    /// The whole state, configuration included, as versioned binary bytes.
    #[napi]
    pub fn snapshot(&self) -> Result<Uint8Array> {
        Ok(Uint8Array::from(self.engine()?.snapshot()))
    }

    /// An engine from `snapshot()` bytes (of any backend or language).
    #[napi(factory)]
    pub fn restore(env: Env, bytes: Unknown<'_>) -> Result<Self> {
        let is_string = bytes.get_type()? == ValueType::String;
        let Some(bytes) = raw_bytes(&env, bytes)?.filter(|_| !is_string) else {
            let reason = "expected a Uint8Array".into();
            return Err(js_error(&env, &CoreError::InvalidSnapshot { reason }));
        };
        Engine::restore(&bytes).map(Self::wrap).map_err(|e| js_error(&env, &e))
    }

    /// Joins another engine's state into this one (same configuration required).
    #[napi]
    pub fn merge(&self, env: Env, other: &NodeStatusEngine) -> Result<()> {
        if std::ptr::eq(self, other) {
            return Ok(()); // a merge is idempotent
        }
        let other = other.engine()?;
        self.engine_mut()?.merge(&other).map_err(|e| js_error(&env, &e))
    }

    /// Releases the engine's memory now instead of at garbage collection (as in the WebAssembly
    /// build); the engine must not be used afterwards.
    #[napi]
    pub fn free(&self) -> Result<()> {
        *self.inner.try_borrow_mut().map_err(|_| busy())? = None;
        Ok(())
    }
}
