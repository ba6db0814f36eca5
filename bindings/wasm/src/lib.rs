//! WebAssembly binding of `mqtt-status` (wasm-bindgen), packaged by `pkg/` as the npm package
//! `mqtt-status`.
//!
//! This crate only converts: JavaScript values in (strings, bytes, or objects serialized with the
//! host's own `JSON.stringify`), core calls, core answers out as plain objects (serde with the
//! JSON-compatible serializer: `null`, never `undefined`, no `Map`s), batch reports packed
//! (`mqtt-status-js-common`) for the npm package to unpack. These are the raw classes: the npm
//! package's `pkg/api.cjs` wraps them in the public API. Every judgment lives in the
//! core, option checks and their messages included (`Config::from_options`, `OnlineQuery`). The
//! native Node addon (`bindings/node`) converts the same way; the shared JS tests run the
//! conformance vectors against both.
//!
//! Errors are thrown as real `Error` objects carrying `.code` and `.field`.

use std::cell::{Ref, RefCell, RefMut};

use js_sys::{Array, ArrayBuffer, Float64Array, Reflect, Uint8Array, JSON};
use mqtt_status::{
    BatchOptions, Config, Error, ErrorCode, IndexKey, ObserveArgs, OnlineQuery, OptionValue, OptionsArg,
    StatusEngine as Engine, TransitionRef,
};
use mqtt_status_js_common::{pack_transition, Packer, BUSY, EVENT_TYPES};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A thrown `Error` with `message`, `.code` and `.field` (`null` when no single field is at fault).
fn coded(code: &str, message: &str, field: Option<&str>) -> JsValue {
    let err = js_sys::Error::new(message);
    let field = field.map_or(JsValue::NULL, JsValue::from_str);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    let _ = Reflect::set(&err, &JsValue::from_str("field"), &field);
    err.into()
}

/// The index key of this module's engines (`mqtt_status::IndexKey`: why a random one), drawn
/// once from the host's `crypto.getRandomValues` (Node 20 and browsers have it), else from
/// `Math.random`: either way unknown to whoever picks the client ids.
fn index_key() -> IndexKey {
    static KEY: std::sync::OnceLock<IndexKey> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| {
        let buf = Uint8Array::new_with_length(16);
        let crypto =
            Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).unwrap_or(JsValue::UNDEFINED);
        let draw = Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).unwrap_or(JsValue::UNDEFINED);
        let drawn = draw.dyn_ref::<js_sys::Function>().is_some_and(|f| f.call1(&crypto, &buf).is_ok());
        let mut bytes = [0u8; 16];
        if drawn {
            buf.copy_to(&mut bytes);
        } else {
            for b in &mut bytes {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
        IndexKey::from_bytes(bytes)
    })
}

/// The thrown `Error` for a core error.
fn js_error(e: &Error) -> JsValue {
    coded(e.code().as_str(), &e.to_string(), e.field())
}

/// A plain JS value (objects, arrays, `null`) from a core answer.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_sys::Error::new(&e.to_string()).into())
}

/// What kind of value `v` is, for the core's option checks (no rule here).
fn option_value(v: &JsValue) -> OptionValue {
    if v.is_undefined() || v.is_null() {
        OptionValue::Absent
    } else if let Some(b) = v.as_bool() {
        OptionValue::Bool(b)
    } else if let Some(n) = v.as_f64() {
        OptionValue::Number(n)
    } else if let Some(s) = v.as_string() {
        OptionValue::Text(s)
    } else {
        OptionValue::Other
    }
}

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`, with what a Proxy trap throws caught.
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn object_keys(v: &JsValue) -> Result<Array, JsValue>;
}

/// An options argument's own keys and values, for the core's checks; a getter or Proxy trap
/// that throws is thrown again unchanged.
fn options_arg(v: &JsValue) -> Result<OptionsArg<Vec<(String, OptionValue)>>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(OptionsArg::Absent);
    }
    if !v.is_object() || Array::is_array(v) || v.is_function() {
        return Ok(OptionsArg::Invalid);
    }
    let keys = object_keys(v)?;
    let mut entries = Vec::with_capacity(keys.length() as usize);
    for key in keys.iter() {
        let value = Reflect::get(v, &key)?;
        entries.push((key.as_string().unwrap_or_default(), option_value(&value)));
    }
    Ok(OptionsArg::Entries(entries))
}

/// The bytes of a string, `Uint8Array` (`Buffer`) or `ArrayBuffer`, if `v` is one (always a
/// copy into WebAssembly memory, made by JavaScript: shared memory is never read in place).
fn raw_bytes(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(s) = v.as_string() {
        Some(s.into_bytes())
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        Some(a.to_vec())
    } else {
        v.dyn_ref::<ArrayBuffer>().map(|b| Uint8Array::new(b).to_vec())
    }
}

/// Why a value was refused: a thrown `Error`'s message, a thrown string, or what was thrown.
fn thrown_reason(e: &JsValue) -> String {
    if let Some(e) = e.dyn_ref::<js_sys::Error>() {
        return e.message().into();
    }
    if let Some(s) = e.as_string() {
        return s;
    }
    let kind = e.js_typeof().as_string().unwrap_or_default();
    if e.is_null() {
        "it throws null".into()
    } else {
        format!("it throws a {kind}")
    }
}

/// One body: raw text/bytes, anything else through the host's `JSON.stringify`; a value it
/// refuses (a cycle, a `BigInt`, a throwing `toJSON`) is the core's `invalid_json` error.
fn body(v: &JsValue) -> Result<Vec<u8>, Error> {
    if let Some(b) = raw_bytes(v) {
        return Ok(b);
    }
    match JSON::stringify(v) {
        Ok(s) => JsValue::from(s)
            .as_string()
            .map(String::into_bytes)
            .ok_or_else(|| Error::unserializable("JSON.stringify gives no text")),
        Err(e) => Err(Error::unserializable(&thrown_reason(&e))),
    }
}

/// The bytes of a snapshot or record argument (`Uint8Array`, `ArrayBuffer`; anything else is
/// refused as `invalid_snapshot`).
fn snapshot_bytes(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    v.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .or_else(|| v.dyn_ref::<ArrayBuffer>().map(|b| Uint8Array::new(b).to_vec()))
        .ok_or_else(|| js_error(&Error::InvalidSnapshot { reason: "expected a Uint8Array".into() }))
}

/// The stable error codes of the core, in its order (what `ERROR_CODES` in the npm package must
/// equal; the package's tests compare them).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Array {
    ErrorCode::ALL.iter().map(|c| JsValue::from_str(c.as_str())).collect()
}

/// The event type names, in the order of their codes in packed transitions (`flags`).
#[wasm_bindgen(js_name = eventTypes)]
pub fn event_types() -> Array {
    EVENT_TYPES.iter().map(|t| JsValue::from_str(t.as_str())).collect()
}

/// The raw status engine the npm package's `StatusEngine` (`pkg/api.cjs`) wraps.
#[wasm_bindgen(js_name = StatusEngine)]
pub struct WasmStatusEngine {
    inner: RefCell<Engine>,
}

impl WasmStatusEngine {
    fn engine(&self) -> Result<Ref<'_, Engine>, JsValue> {
        self.inner.try_borrow().map_err(|_| coded(BUSY.0, BUSY.1, None))
    }

    fn engine_mut(&self) -> Result<RefMut<'_, Engine>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| coded(BUSY.0, BUSY.1, None))
    }
}

#[wasm_bindgen(js_class = StatusEngine)]
impl WasmStatusEngine {
    /// `new StatusEngine({closeOnDisconnect, takeover, tombstonesPerClient, maxIdLen})`; every
    /// option is optional. The core checks them (`Config::from_options`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WasmStatusEngine, JsValue> {
        let config = Config::from_options(options_arg(&options)?).map_err(|e| js_error(&e))?;
        let engine = Engine::new(config).map_err(|e| js_error(&e))?.with_index_key(index_key());
        Ok(WasmStatusEngine { inner: RefCell::new(engine) })
    }

    /// Ingests one body or envelope (string, `Uint8Array` or object) with an optional tag;
    /// returns `null` or the transition in the packed format (`mqtt-status-js-common`), which
    /// the npm package's `ingest` unpacks.
    #[wasm_bindgen(js_name = ingestPacked)]
    pub fn ingest_packed(&self, input: JsValue, tag: JsValue) -> Result<JsValue, JsValue> {
        let tag = option_value(&tag).text("tag").map_err(|e| js_error(&e))?;
        let item = body(&input);
        let mut engine = self.engine_mut()?;
        let result = match item {
            Ok(bytes) => engine.ingest_json(&bytes, tag.as_deref()),
            Err(e) => Err(engine.reject_unread(e)),
        };
        drop(engine);
        let Some(t) = result.map_err(|e| js_error(&e))? else {
            return Ok(JsValue::NULL);
        };
        let (text, [client_end, time, flags], since) = pack_transition(TransitionRef::from(&t));
        let out = Array::of4(&text.into(), &client_end.into(), &time.into(), &flags.into());
        if let Some(since) = since {
            out.push(&since.into());
        }
        Ok(out.into())
    }

    /// Ingests JSONL (string or bytes, one body or envelope per line) or an array of bodies;
    /// `options.until` skips events after that time. Returns the batch report in the packed
    /// format (`mqtt-status-js-common`), which the npm package's `ingestMany` unpacks.
    #[wasm_bindgen(js_name = ingestManyPacked)]
    pub fn ingest_many_packed(&self, input: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let until = BatchOptions::from_options(options_arg(&options)?).map_err(|e| js_error(&e))?.until;
        let mut packer = Packer::new();
        let report = if let Some(bytes) = raw_bytes(&input) {
            self.engine_mut()?.ingest_many_each(&bytes, until, |t| packer.push(t))
        } else if Array::is_array(&input) {
            let items: Vec<Result<Vec<u8>, Error>> = Array::from(&input).iter().map(|v| body(&v)).collect();
            self.engine_mut()?.ingest_item_results_each(items, until, |t| packer.push(t))
        } else {
            let reason = "must be a string, a Uint8Array or an array".into();
            return Err(js_error(&Error::InvalidField { field: "input", reason }));
        };
        let packed = packer.finish(&report);
        Ok(Array::of4(
            &JsValue::from(packed.head),
            &JsValue::from(packed.text),
            &Float64Array::from(packed.cols.as_slice()),
            &Float64Array::from(packed.since.as_slice()),
        ))
    }

    /// Whether the client has an open channel (an unknown client is offline).
    #[wasm_bindgen(js_name = isOnline)]
    pub fn is_online(&self, client_id: JsValue) -> Result<bool, JsValue> {
        let id = option_value(&client_id).required_text("clientId").map_err(|e| js_error(&e))?;
        Ok(self.engine()?.is_online(&id))
    }

    /// Tells the engine the host's time (grace, SPEC §9): the offline transitions it confirmed,
    /// sorted by (time, clientId).
    pub fn advance(&self, now_ms: JsValue) -> Result<JsValue, JsValue> {
        let now = option_value(&now_ms).required_integer("now").map_err(|e| js_error(&e))?;
        let due = self.engine_mut()?.advance(now).map_err(|e| js_error(&e))?;
        to_js(&due)
    }

    /// Records an authoritative answer about a client (SPEC §9): the transition it caused or
    /// `null`. Bad arguments are rejected like a bad notification (counted, nothing changes).
    pub fn observe(&self, client_id: JsValue, online: JsValue, time_ms: JsValue) -> Result<JsValue, JsValue> {
        let args =
            ObserveArgs::from_values(option_value(&client_id), option_value(&online), option_value(&time_ms));
        let mut engine = self.engine_mut()?;
        let result = match args {
            Ok(a) => engine.observe(&a.client_id, a.online, a.time_ms),
            Err(e) => Err(engine.reject_unread(e)),
        };
        drop(engine);
        match result.map_err(|e| js_error(&e))? {
            Some(t) => to_js(&t),
            None => Ok(JsValue::NULL),
        }
    }

    /// Online clients with no sign of life for `olderThanMs` before `nowMs`, oldest first, at
    /// most `limit`: `[{clientId, lastSeen}]`.
    #[wasm_bindgen(js_name = staleOnline)]
    pub fn stale_online(
        &self,
        older_than_ms: JsValue,
        now_ms: JsValue,
        limit: JsValue,
    ) -> Result<JsValue, JsValue> {
        let arg = |v: &JsValue, field| option_value(v).required_integer(field).map_err(|e| js_error(&e));
        let (older, now, limit) =
            (arg(&older_than_ms, "olderThanMs")?, arg(&now_ms, "nowMs")?, arg(&limit, "limit")?);
        let stale = self.engine()?.stale_online(older, now, usize::try_from(limit).unwrap_or(usize::MAX));
        to_js(&stale)
    }

    /// Everything known about one client, or `null`.
    pub fn client(&self, client_id: JsValue) -> Result<JsValue, JsValue> {
        let id = option_value(&client_id).required_text("clientId").map_err(|e| js_error(&e))?;
        let status = self.engine()?.client(&id);
        match status {
            Some(c) => to_js(&c),
            None => Ok(JsValue::NULL),
        }
    }

    /// Online client ids, sorted; `{group, after, limit}` filter and paginate.
    #[wasm_bindgen(js_name = onlineClients)]
    pub fn online_clients(&self, query: JsValue) -> Result<Vec<String>, JsValue> {
        let q = OnlineQuery::from_options(options_arg(&query)?).map_err(|e| js_error(&e))?;
        Ok(self.engine()?.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit))
    }

    /// Number of online clients, in all or in one group.
    #[wasm_bindgen(js_name = countOnline)]
    pub fn count_online(&self, group: JsValue) -> Result<f64, JsValue> {
        let group = option_value(&group).text("group").map_err(|e| js_error(&e))?;
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

    /// The client's per-client record (SPEC §8: the bytes a status store keeps for it), or
    /// `null` for a client the engine does not know.
    #[wasm_bindgen(js_name = clientRecord)]
    pub fn client_record(&self, client_id: JsValue) -> Result<JsValue, JsValue> {
        let id = option_value(&client_id).required_text("clientId").map_err(|e| js_error(&e))?;
        let record = self.engine()?.client_record(&id);
        // `null`, not the `undefined` wasm-bindgen gives for `None`: the answer the addon gives.
        Ok(record.map_or(JsValue::NULL, |b| Uint8Array::from(b.as_slice()).into()))
    }

    /// Loads a per-client record, replacing that client's state (`invalid_snapshot` for a
    /// corrupt record or one of another client; nothing changes then).
    #[wasm_bindgen(js_name = loadRecord)]
    pub fn load_record(&self, client_id: JsValue, bytes: JsValue) -> Result<(), JsValue> {
        let id = option_value(&client_id).required_text("clientId").map_err(|e| js_error(&e))?;
        let bytes = snapshot_bytes(&bytes)?;
        self.engine_mut()?.load_record(&id, &bytes).map_err(|e| js_error(&e))
    }

    /// An engine from `snapshot()` bytes (of any backend or language).
    pub fn restore(bytes: JsValue) -> Result<WasmStatusEngine, JsValue> {
        let bytes = snapshot_bytes(&bytes)?;
        let engine = Engine::restore_keyed(&bytes, index_key()).map_err(|e| js_error(&e))?;
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
