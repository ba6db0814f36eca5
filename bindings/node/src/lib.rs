//! Native Node.js addon of `mqtt-status` (napi-rs): the npm package `mqtt-status-native`, which
//! the package `mqtt-status` loads when it is installed (falling back to WebAssembly otherwise).
//!
//! This crate only converts, like `bindings/wasm`: JavaScript values in (strings, bytes copied
//! out of host memory, objects serialized with the host's own `JSON.stringify`, option values as
//! [`OptionValue`]s), core calls, core answers out as plain objects (the core's serde JSON read
//! back with the host's `JSON.parse`, so the shape is exactly the one the WebAssembly build gives:
//! `null`, never `undefined`); transitions and batch reports packed (`mqtt-status-js-common`).
//! These are the raw classes: the npm package's `pkg/api.cjs` wraps them in the public API. Every judgment, option check and message lives in the core. Errors are thrown as
//! real `Error` objects carrying `.code` and `.field`.

use std::cell::{Ref, RefCell, RefMut};

use mqtt_status::{
    BatchOptions, Config, Error as CoreError, ErrorCode, ObserveArgs, OnlineQuery, OptionValue, OptionsArg,
    StatusEngine as Engine, TransitionRef,
};
use mqtt_status_js_common::{pack_transition, PackedReport, Packer, BUSY, EVENT_TYPES, FREED};
use napi::bindgen_prelude::*;
use napi::{JsString, JsValue, ValueType};
use napi_derive::napi;

mod host;
mod store;
use host::{raw_bytes, Caught, Ran};

/// A thrown `Error` with `message`, `.code` and `.field` (`null` when no single field is at fault).
pub(crate) fn coded(env: &Env, code: &str, message: String, field: Option<&str>) -> Error {
    let build = || -> Result<Error> {
        let err = JsError::from(Error::new(code, message.clone())).into_unknown(*env);
        let mut obj = err.coerce_to_object()?;
        match field {
            Some(f) => obj.set_named_property("field", f)?,
            None => obj.set_named_property("field", Null)?,
        }
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

/// The thrown `Error` for a core error.
pub(crate) fn js_error(env: &Env, e: &CoreError) -> Error {
    coded(env, e.code().as_str(), e.to_string(), e.field())
}

/// The global `JSON` object.
fn json<'e>(env: &'e Env) -> Result<Object<'e>> {
    env.get_global()?.get_named_property::<Object<'_>>("JSON")
}

/// A plain JS value from a core answer: its serde JSON read back with `JSON.parse`.
pub(crate) fn to_js<'e, T: serde::Serialize>(env: &'e Env, value: &T) -> Result<Unknown<'e>> {
    let text = serde_json::to_string(value).map_err(|e| Error::from_reason(e.to_string()))?;
    let parse = json(env)?.get_named_property::<Function<'_, String, Unknown<'_>>>("parse")?;
    parse.call(text)
}

fn string_of(v: Unknown<'_>) -> Result<String> {
    let s: JsString<'_> = v.coerce_to_string()?;
    s.into_utf8()?.into_owned()
}

/// What kind of value `v` is, for the core's option checks (no rule here).
pub(crate) fn option_value(v: Unknown<'_>) -> Result<OptionValue> {
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => OptionValue::Absent,
        ValueType::Boolean => OptionValue::Bool(v.coerce_to_bool()?),
        ValueType::Number => OptionValue::Number(v.coerce_to_number()?.get_double()?),
        ValueType::String => OptionValue::Text(string_of(v)?),
        _ => OptionValue::Other,
    })
}

/// An options argument's own keys and values, for the core's checks; a getter or Proxy trap
/// that throws is thrown again unchanged.
pub(crate) fn options_arg(
    env: &Env,
    v: Option<Unknown<'_>>,
) -> Result<OptionsArg<Vec<(String, OptionValue)>>> {
    let Some(v) = v else { return Ok(OptionsArg::Absent) };
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(OptionsArg::Absent),
        ValueType::Object if !v.is_array()? => {}
        _ => return Ok(OptionsArg::Invalid),
    }
    let read = || -> Ran<Vec<(String, OptionValue)>> {
        let mut entries = Vec::new();
        for key in host::keys(env, v.raw())? {
            let value = host::get(env, v.raw(), &key)?;
            // SAFETY: `value` is a value of this env, just read.
            let value = unsafe { Unknown::from_raw_unchecked(env.raw(), value) };
            entries.push((key, option_value(value)?));
        }
        Ok(entries)
    };
    read().map(OptionsArg::Entries).map_err(|c| c.rethrow(env))
}

/// One body: raw text/bytes (copied), anything else through the host's `JSON.stringify`; a value
/// it refuses (a cycle, a `BigInt`, a throwing `toJSON`) is the core's `invalid_json` error.
pub(crate) fn body(env: &Env, v: Unknown<'_>) -> Result<std::result::Result<Vec<u8>, CoreError>> {
    if let Some(b) = raw_bytes(env, v)? {
        return Ok(Ok(b));
    }
    Ok(match host::stringify(env, v.raw()) {
        Ok(Some(text)) => Ok(text.into_bytes()),
        Ok(None) => Err(CoreError::unserializable("JSON.stringify gives no text")),
        Err(Caught::Napi(e)) => return Err(e),
        Err(thrown) => Err(CoreError::unserializable(&thrown.reason(env))),
    })
}

/// The bytes of a snapshot or record argument (`Uint8Array`, `ArrayBuffer`; a string is refused
/// as `invalid_snapshot`).
fn snapshot_bytes(env: &Env, v: Unknown<'_>) -> Result<Vec<u8>> {
    let is_string = v.get_type()? == ValueType::String;
    match raw_bytes(env, v)?.filter(|_| !is_string) {
        Some(bytes) => Ok(bytes),
        None => Err(js_error(env, &CoreError::InvalidSnapshot { reason: "expected a Uint8Array".into() })),
    }
}

/// The error for a call on a freed engine (`free()` was called), code `engine_freed`.
fn freed(env: &Env) -> Error {
    coded(env, FREED.0, FREED.1.into(), None)
}

/// The error for a call made while the engine runs (from a `toJSON` or getter it called), code
/// `engine_busy`.
fn busy(env: &Env) -> Error {
    coded(env, BUSY.0, BUSY.1.into(), None)
}

/// The stable error codes of the core, in its order (what `ERROR_CODES` in the npm package must
/// equal; the package's tests compare them).
#[napi(js_name = "errorCodes")]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.map(ErrorCode::as_str).to_vec()
}

/// The event type names, in the order of their codes in packed transitions (`flags`).
#[napi(js_name = "eventTypes")]
pub fn event_types() -> Vec<&'static str> {
    EVENT_TYPES.map(|t| t.as_str()).to_vec()
}

/// A transition in the packed format (`mqtt-status-js-common`): `[text, clientIdEnd, time, flags]`.
pub(crate) fn packed_transition<'e>(env: &'e Env, t: TransitionRef<'_>) -> Result<Unknown<'e>> {
    let (text, [client_end, time, flags], since) = pack_transition(t);
    let mut out = env.create_array(if since.is_some() { 5 } else { 4 })?;
    out.set(0, text)?;
    out.set(1, client_end)?;
    out.set(2, time)?;
    out.set(3, flags)?;
    if let Some(since) = since {
        out.set(4, since)?;
    }
    out.into_unknown(env)
}

/// A batch report in the packed format (`mqtt-status-js-common`): `[head, text, cols, since]`.
pub(crate) fn packed_report<'e>(env: &'e Env, packed: PackedReport) -> Result<Unknown<'e>> {
    let mut out = env.create_array(4)?;
    out.set(0, packed.head)?;
    out.set(1, packed.text)?;
    out.set(2, Float64Array::new(packed.cols))?;
    out.set(3, Float64Array::new(packed.since))?;
    out.into_unknown(env)
}

/// The raw status engine the npm package's `StatusEngine` (`pkg/api.cjs`) wraps.
#[napi(js_name = "StatusEngine")]
pub struct NodeStatusEngine {
    inner: RefCell<Option<Engine>>,
}

impl NodeStatusEngine {
    fn engine(&self, env: &Env) -> Result<Ref<'_, Engine>> {
        let r = self.inner.try_borrow().map_err(|_| busy(env))?;
        Ref::filter_map(r, Option::as_ref).map_err(|_| freed(env))
    }

    fn engine_mut(&self, env: &Env) -> Result<RefMut<'_, Engine>> {
        let r = self.inner.try_borrow_mut().map_err(|_| busy(env))?;
        RefMut::filter_map(r, Option::as_mut).map_err(|_| freed(env))
    }

    fn wrap(engine: Engine) -> Self {
        NodeStatusEngine { inner: RefCell::new(Some(engine)) }
    }
}

#[napi]
impl NodeStatusEngine {
    /// `new StatusEngine({closeOnDisconnect, takeover, tombstonesPerClient, maxIdLen})`; every
    /// option is optional. The core checks them (`Config::from_options`).
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let config = Config::from_options(options_arg(&env, options)?).map_err(|e| js_error(&env, &e))?;
        mqtt_status_store::new_engine(config).map(Self::wrap).map_err(|e| js_error(&env, &e))
    }

    /// Ingests one body or envelope (string, `Uint8Array` or object) with an optional tag;
    /// returns `null` or the transition in the packed format (`mqtt-status-js-common`), which
    /// the npm package's `ingest` unpacks.
    #[napi(js_name = "ingestPacked")]
    pub fn ingest_packed<'e>(
        &self,
        env: &'e Env,
        input: Unknown<'e>,
        tag: Option<Unknown<'e>>,
    ) -> Result<Unknown<'e>> {
        let tag = match tag {
            Some(t) => option_value(t)?.text("tag").map_err(|e| js_error(env, &e))?,
            None => None,
        };
        let item = body(env, input)?;
        let mut engine = self.engine_mut(env)?;
        let result = match item {
            Ok(bytes) => engine.ingest_json(&bytes, tag.as_deref()),
            Err(e) => Err(engine.reject_unread(e)),
        };
        drop(engine);
        let Some(t) = result.map_err(|e| js_error(env, &e))? else {
            return Null.into_unknown(env);
        };
        packed_transition(env, TransitionRef::from(&t))
    }

    /// Ingests JSONL (string or bytes, one body or envelope per line) or an array of bodies;
    /// `options.until` skips events after that time. Returns the batch report in the packed
    /// format (`mqtt-status-js-common`), which the npm package's `ingestMany` unpacks.
    #[napi(js_name = "ingestManyPacked")]
    pub fn ingest_many_packed<'e>(
        &self,
        env: &'e Env,
        input: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> Result<Unknown<'e>> {
        let options =
            BatchOptions::from_options(options_arg(env, options)?).map_err(|e| js_error(env, &e))?;
        let mut packer = Packer::new();
        let report = if let Some(bytes) = raw_bytes(env, input)? {
            packer.reserve_for_jsonl(bytes.len());
            self.engine_mut(env)?.ingest_many_each(&bytes, options.until, |t| packer.push(t))
        } else {
            if !input.is_array()? {
                let e = CoreError::InvalidField {
                    field: "input",
                    reason: "must be a string, a Uint8Array or an array".into(),
                };
                return Err(js_error(env, &e));
            }
            let read = || -> Ran<Vec<_>> {
                let n = host::length(env, input.raw())?;
                let mut items = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let item = host::element(env, input.raw(), i)?;
                    // SAFETY: `item` is a value of this env, just read.
                    items.push(body(env, unsafe { Unknown::from_raw_unchecked(env.raw(), item) })?);
                }
                Ok(items)
            };
            let items = read().map_err(|c| c.rethrow(env))?;
            self.engine_mut(env)?.ingest_item_results_each(items, options.until, |t| packer.push(t))
        };
        packed_report(env, packer.finish(&report))
    }

    /// Whether the client has an open channel (an unknown client is offline).
    #[napi(js_name = "isOnline")]
    pub fn is_online(&self, env: Env, client_id: Unknown<'_>) -> Result<bool> {
        let id = option_value(client_id)?.required_text("clientId").map_err(|e| js_error(&env, &e))?;
        Ok(self.engine(&env)?.is_online(&id))
    }

    /// Tells the engine the host's time (grace, SPEC §9): the offline transitions it confirmed,
    /// sorted by (time, clientId).
    #[napi]
    pub fn advance<'e>(&self, env: &'e Env, now_ms: Unknown<'e>) -> Result<Unknown<'e>> {
        let now = option_value(now_ms)?.required_integer("now").map_err(|e| js_error(env, &e))?;
        let due = self.engine_mut(env)?.advance(now).map_err(|e| js_error(env, &e))?;
        to_js(env, &due)
    }

    /// Records an authoritative answer about a client (SPEC §9): the transition it caused or
    /// `null`. Bad arguments are rejected like a bad notification (counted, nothing changes).
    #[napi]
    pub fn observe<'e>(
        &self,
        env: &'e Env,
        client_id: Unknown<'e>,
        online: Unknown<'e>,
        time_ms: Unknown<'e>,
    ) -> Result<Unknown<'e>> {
        let args =
            ObserveArgs::from_values(option_value(client_id)?, option_value(online)?, option_value(time_ms)?);
        let mut engine = self.engine_mut(env)?;
        let result = match args {
            Ok(a) => engine.observe(&a.client_id, a.online, a.time_ms),
            Err(e) => Err(engine.reject_unread(e)),
        };
        drop(engine);
        match result.map_err(|e| js_error(env, &e))? {
            Some(t) => to_js(env, &t),
            None => Null.into_unknown(env),
        }
    }

    /// Online clients with no sign of life for `olderThanMs` before `nowMs`, oldest first, at
    /// most `limit`: `[{clientId, lastSeen}]`.
    #[napi(js_name = "staleOnline")]
    pub fn stale_online<'e>(
        &self,
        env: &'e Env,
        older_than_ms: Unknown<'e>,
        now_ms: Unknown<'e>,
        limit: Unknown<'e>,
    ) -> Result<Unknown<'e>> {
        let arg = |v: Unknown<'e>, field| -> Result<u64> {
            option_value(v)?.required_integer(field).map_err(|e| js_error(env, &e))
        };
        let (older, now, limit) =
            (arg(older_than_ms, "olderThanMs")?, arg(now_ms, "nowMs")?, arg(limit, "limit")?);
        let stale = self.engine(env)?.stale_online(older, now, usize::try_from(limit).unwrap_or(usize::MAX));
        to_js(env, &stale)
    }

    /// Everything known about one client, or `null`.
    #[napi]
    pub fn client<'e>(&self, env: &'e Env, client_id: Unknown<'e>) -> Result<Unknown<'e>> {
        let id = option_value(client_id)?.required_text("clientId").map_err(|e| js_error(env, &e))?;
        let status = self.engine(env)?.client(&id);
        match status {
            Some(c) => to_js(env, &c),
            None => Null.into_unknown(env),
        }
    }

    /// Online client ids, sorted; `{group, after, limit}` filter and paginate.
    #[napi(js_name = "onlineClients")]
    pub fn online_clients(&self, env: Env, query: Option<Unknown<'_>>) -> Result<Vec<String>> {
        let q = OnlineQuery::from_options(options_arg(&env, query)?).map_err(|e| js_error(&env, &e))?;
        Ok(self.engine(&env)?.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit))
    }

    /// Number of online clients, in all or in one group.
    #[napi(js_name = "countOnline")]
    pub fn count_online(&self, env: Env, group: Option<Unknown<'_>>) -> Result<f64> {
        let group = match group {
            Some(g) => option_value(g)?.text("group").map_err(|e| js_error(&env, &e))?,
            None => None,
        };
        Ok(self.engine(&env)?.count_online(group.as_deref()) as f64)
    }

    /// Every group seen, sorted: `[{groupId, online, known}]`.
    #[napi]
    pub fn groups<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let groups = self.engine(env)?.groups();
        to_js(env, &groups)
    }

    /// Engine-wide counters and gauges.
    #[napi]
    pub fn stats<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let stats = self.engine(env)?.stats();
        to_js(env, &stats)
    }

    /// The whole state, configuration included, as versioned binary bytes.
    #[napi]
    pub fn snapshot(&self, env: Env) -> Result<Uint8Array> {
        Ok(Uint8Array::from(self.engine(&env)?.snapshot()))
    }

    /// The client's per-client record (SPEC §8: the bytes a status store keeps for it), or
    /// `null` for a client the engine does not know.
    #[napi(js_name = "clientRecord")]
    pub fn client_record<'e>(&self, env: &'e Env, client_id: Unknown<'e>) -> Result<Unknown<'e>> {
        let id = option_value(client_id)?.required_text("clientId").map_err(|e| js_error(env, &e))?;
        let record = self.engine(env)?.client_record(&id);
        match record {
            Some(bytes) => Uint8Array::from(bytes).into_unknown(env),
            None => Null.into_unknown(env),
        }
    }

    /// Loads a per-client record, replacing that client's state (`invalid_snapshot` for a
    /// corrupt record or one of another client; nothing changes then).
    #[napi(js_name = "loadRecord")]
    pub fn load_record(&self, env: Env, client_id: Unknown<'_>, bytes: Unknown<'_>) -> Result<()> {
        let id = option_value(client_id)?.required_text("clientId").map_err(|e| js_error(&env, &e))?;
        let bytes = snapshot_bytes(&env, bytes)?;
        self.engine_mut(&env)?.load_record(&id, &bytes).map_err(|e| js_error(&env, &e))
    }

    /// An engine from `snapshot()` bytes (of any backend or language).
    #[napi(factory)]
    pub fn restore(env: Env, bytes: Unknown<'_>) -> Result<Self> {
        let bytes = snapshot_bytes(&env, bytes)?;
        mqtt_status_store::restore_engine(&bytes).map(Self::wrap).map_err(|e| js_error(&env, &e))
    }

    /// Joins another engine's state into this one (same configuration required).
    #[napi]
    pub fn merge(&self, env: Env, other: &NodeStatusEngine) -> Result<()> {
        if std::ptr::eq(self, other) {
            return Ok(()); // a merge is idempotent
        }
        let other = other.engine(&env)?;
        self.engine_mut(&env)?.merge(&other).map_err(|e| js_error(&env, &e))
    }

    /// Releases the engine's memory now instead of at garbage collection (as in the WebAssembly
    /// build); any later call throws `engine_freed`.
    #[napi]
    pub fn free(&self, env: Env) -> Result<()> {
        *self.inner.try_borrow_mut().map_err(|_| busy(&env))? = None;
        Ok(())
    }
}
