//! WebAssembly binding of `mqtt-status` (wasm-bindgen), packaged by `pkg/` as the npm package
//! `mqtt-status`.
//!
//! This crate only converts: JavaScript values in (strings, bytes, or objects serialized with the
//! host's own `JSON.stringify`), core calls, core answers out as plain objects (serde with the
//! JSON-compatible serializer: `null`, never `undefined`, no `Map`s), batch reports packed
//! (`mqtt-status-js-common`) for the npm package to unpack. Every judgment lives in the
//! core. The native Node addon (`bindings/node`) mirrors this file rule for rule; the shared JS
//! tests run the conformance vectors against both.
//!
//! Errors are thrown as real `Error` objects carrying `.code` and `.field`.

use std::cell::{Ref, RefCell, RefMut};

use js_sys::{Array, ArrayBuffer, Float64Array, Object, Reflect, Uint8Array, JSON};
use mqtt_status::{Config, Error, StatusEngine as Engine, TransitionRef, MAX_TIME};
use mqtt_status_js_common::{explain_failed, explain_one, pack_transition, Owned, Packer, EVENT_TYPES};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Builds the thrown `Error` with `.code` and `.field` (`null` when no single field is at fault).
fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let field = e.field().map_or(JsValue::NULL, JsValue::from_str);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code().as_str()));
    let _ = Reflect::set(&err, &JsValue::from_str("field"), &field);
    err.into()
}

fn invalid(field: &'static str, reason: &str) -> JsValue {
    js_error(&Error::InvalidField { field, reason: reason.into() })
}

/// A plain JS value (objects, arrays, `null`) from a core answer.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_sys::Error::new(&e.to_string()).into())
}

fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// The bytes of a string, `Uint8Array` (`Buffer`) or `ArrayBuffer`, if `v` is one.
fn raw_bytes(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(s) = v.as_string() {
        Some(s.into_bytes())
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        Some(a.to_vec())
    } else {
        v.dyn_ref::<ArrayBuffer>().map(|b| Uint8Array::new(b).to_vec())
    }
}

/// One body: raw text/bytes as they are, anything else through the host's `JSON.stringify`.
fn body(v: &JsValue) -> Owned {
    if let Some(b) = raw_bytes(v) {
        return Owned::Bytes(b);
    }
    match JSON::stringify(v) {
        Ok(s) => match JsValue::from(s).as_string() {
            Some(s) => Owned::Bytes(s.into_bytes()),
            None => Owned::Failed("it gives no text".into()),
        },
        Err(e) => Owned::Failed(
            e.dyn_ref::<js_sys::Error>().map_or_else(|| "it throws".into(), |e| e.message().into()),
        ),
    }
}

/// Rejects keys other than `allowed` (so a misspelt option is an error, not a silent default).
fn check_keys(obj: &JsValue, allowed: &[&str], what: &'static str) -> Result<(), JsValue> {
    if !obj.is_object() || Array::is_array(obj) {
        return Err(invalid(what, "must be an object"));
    }
    for key in Object::keys(obj.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let reason = format!("unknown option {key:?} (expected one of {})", allowed.join(", "));
            return Err(js_error(&Error::InvalidField { field: what, reason }));
        }
    }
    Ok(())
}

fn get(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
}

fn opt_bool(v: &JsValue, field: &'static str, default: bool) -> Result<bool, JsValue> {
    if is_absent(v) {
        return Ok(default);
    }
    v.as_bool().ok_or_else(|| invalid(field, "must be a boolean"))
}

/// A non-negative integer up to `max` (JS numbers only).
fn opt_uint(v: &JsValue, field: &'static str, max: u64) -> Result<Option<u64>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max as f64 => Ok(Some(n as u64)),
        _ => Err(invalid(field, &format!("must be an integer between 0 and {max}"))),
    }
}

fn opt_string(v: &JsValue, field: &'static str) -> Result<Option<String>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| invalid(field, "must be a string"))
}

fn string_arg(v: &JsValue, field: &'static str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| invalid(field, "must be a string"))
}

/// The status engine: feed it notifications, ask who is online.
#[wasm_bindgen(js_name = StatusEngine)]
pub struct WasmStatusEngine {
    inner: RefCell<Engine>,
}

impl WasmStatusEngine {
    fn engine(&self) -> Result<Ref<'_, Engine>, JsValue> {
        self.inner
            .try_borrow()
            .map_err(|_| js_sys::Error::new("StatusEngine is busy (re-entrant call)").into())
    }

    fn engine_mut(&self) -> Result<RefMut<'_, Engine>, JsValue> {
        self.inner
            .try_borrow_mut()
            .map_err(|_| js_sys::Error::new("StatusEngine is busy (re-entrant call)").into())
    }
}

#[wasm_bindgen(js_class = StatusEngine)]
impl WasmStatusEngine {
    /// `new StatusEngine({closeOnDisconnect, takeover, tombstonesPerClient, maxIdLen,
    /// maxOpenChannels})`; every
    /// option is optional. Unknown or mistyped options throw `invalid_field`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WasmStatusEngine, JsValue> {
        let mut config = Config::default();
        if !is_absent(&options) {
            check_keys(
                &options,
                &["closeOnDisconnect", "takeover", "tombstonesPerClient", "maxIdLen", "maxOpenChannels"],
                "options",
            )?;
            config.close_on_disconnect = opt_bool(
                &get(&options, "closeOnDisconnect")?,
                "closeOnDisconnect",
                config.close_on_disconnect,
            )?;
            config.takeover = opt_bool(&get(&options, "takeover")?, "takeover", config.takeover)?;
            let t = opt_uint(&get(&options, "tombstonesPerClient")?, "tombstonesPerClient", u32::MAX.into())?;
            config.tombstones_per_client = t.map_or(config.tombstones_per_client, |t| t as u32);
            let m = opt_uint(&get(&options, "maxIdLen")?, "maxIdLen", u32::MAX.into())?;
            config.max_id_len = m.map_or(config.max_id_len, |m| m as u32);
            let o = opt_uint(&get(&options, "maxOpenChannels")?, "maxOpenChannels", u32::MAX.into())?;
            config.max_open_channels = o.map_or(config.max_open_channels, |o| o as u32);
        }
        let engine = Engine::new(config).map_err(|e| js_error(&e))?;
        Ok(WasmStatusEngine { inner: RefCell::new(engine) })
    }

    /// Ingests one body or envelope (string, `Uint8Array` or object) with an optional tag;
    /// returns `null`, or the transition packed as `[text, clientIdEnd, time, flags]` (see
    /// `mqtt-status-js-common`), which the npm package's `ingest` unpacks.
    #[wasm_bindgen(js_name = _ingestPacked)]
    pub fn ingest_packed(&self, input: JsValue, tag: JsValue) -> Result<JsValue, JsValue> {
        let tag = opt_string(&tag, "tag")?;
        let item = body(&input);
        let result = self.engine_mut()?.ingest_json(item.bytes(), tag.as_deref());
        let Some(t) = explain_one(result, &item).map_err(|e| js_error(&e))? else {
            return Ok(JsValue::NULL);
        };
        let (text, [client_end, time, flags]) = pack_transition(TransitionRef::from(&t));
        let out = Array::of4(&text.into(), &client_end.into(), &time.into(), &flags.into());
        Ok(out.into())
    }

    /// The event type names, in the order of the codes in packed transitions.
    #[wasm_bindgen(js_name = _eventTypes)]
    pub fn event_types() -> Array {
        EVENT_TYPES.iter().map(|t| JsValue::from_str(t.as_str())).collect()
    }

    /// Ingests JSONL (string or bytes, one body or envelope per line) or an array of bodies;
    /// `options.until` skips events after that time. Returns the batch report packed as
    /// `[head, text, cols]` (see `mqtt-status-js-common`), which the npm package's
    /// `ingestMany` unpacks.
    #[wasm_bindgen(js_name = _ingestManyPacked)]
    pub fn ingest_many_packed(&self, input: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let mut until = None;
        if !is_absent(&options) {
            check_keys(&options, &["until"], "options")?;
            until = opt_uint(&get(&options, "until")?, "until", MAX_TIME)?;
        }
        let mut packer = Packer::new();
        let report = if let Some(bytes) = raw_bytes(&input) {
            self.engine_mut()?.ingest_many_each(&bytes, until, |t| packer.push(t))
        } else if Array::is_array(&input) {
            let items: Vec<Owned> = Array::from(&input).iter().map(|v| body(&v)).collect();
            let bytes = items.iter().map(Owned::bytes);
            let mut report = self.engine_mut()?.ingest_items_each(bytes, until, |t| packer.push(t));
            explain_failed(&mut report, &items);
            report
        } else {
            return Err(invalid("input", "must be a string, a Uint8Array or an array"));
        };
        let packed = packer.finish(&report);
        Ok(Array::of3(
            &JsValue::from(packed.head),
            &JsValue::from(packed.text),
            &Float64Array::from(packed.cols.as_slice()),
        ))
    }

    /// Whether the client has an open channel (an unknown client is offline).
    #[wasm_bindgen(js_name = isOnline)]
    pub fn is_online(&self, client_id: JsValue) -> Result<bool, JsValue> {
        let id = string_arg(&client_id, "clientId")?;
        Ok(self.engine()?.is_online(&id))
    }

    /// Everything known about one client, or `null`.
    pub fn client(&self, client_id: JsValue) -> Result<JsValue, JsValue> {
        let id = string_arg(&client_id, "clientId")?;
        let status = self.engine()?.client(&id);
        match status {
            Some(c) => to_js(&c),
            None => Ok(JsValue::NULL),
        }
    }

    /// Online client ids, sorted; `{group, after, limit}` filter and paginate.
    #[wasm_bindgen(js_name = onlineClients)]
    pub fn online_clients(&self, query: JsValue) -> Result<Vec<String>, JsValue> {
        let (mut group, mut after, mut limit) = (None, None, None);
        if !is_absent(&query) {
            check_keys(&query, &["group", "after", "limit"], "query")?;
            group = opt_string(&get(&query, "group")?, "group")?;
            after = opt_string(&get(&query, "after")?, "after")?;
            limit = opt_uint(&get(&query, "limit")?, "limit", MAX_TIME)?;
        }
        let limit = limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        Ok(self.engine()?.online_clients(group.as_deref(), after.as_deref(), limit))
    }

    /// Number of online clients, in all or in one group.
    #[wasm_bindgen(js_name = countOnline)]
    pub fn count_online(&self, group: JsValue) -> Result<f64, JsValue> {
        let group = opt_string(&group, "group")?;
        Ok(self.engine()?.count_online(group.as_deref()) as f64)
    }

    /// Every group seen, sorted: `[{groupId, online, known}]`.
    pub fn groups(&self) -> Result<JsValue, JsValue> {
        to_js(&self.engine()?.groups())
    }

    /// Engine-wide counters and gauges.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js(&self.engine()?.stats())
    }

    /// The whole state, configuration included, as versioned binary bytes.
    pub fn snapshot(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.engine()?.snapshot())
    }

    /// An engine from `snapshot()` bytes (of any backend or language).
    pub fn restore(bytes: JsValue) -> Result<WasmStatusEngine, JsValue> {
        let Some(bytes) = bytes
            .dyn_ref::<Uint8Array>()
            .map(Uint8Array::to_vec)
            .or_else(|| bytes.dyn_ref::<ArrayBuffer>().map(|b| Uint8Array::new(b).to_vec()))
        else {
            let reason = "expected a Uint8Array".into();
            return Err(js_error(&Error::InvalidSnapshot { reason }));
        };
        let engine = Engine::restore(&bytes).map_err(|e| js_error(&e))?;
        Ok(WasmStatusEngine { inner: RefCell::new(engine) })
    }

    /// Joins another engine's state into this one (same configuration required).
    pub fn merge(&self, other: &WasmStatusEngine) -> Result<(), JsValue> {
        if std::ptr::eq(self, other) {
            return Ok(()); // a merge is idempotent
        }
        let other = other.engine()?;
        self.engine_mut()?.merge(&other).map_err(|e| js_error(&e))
    }
}
