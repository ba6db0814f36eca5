//! `mqtt_status._native`: the Python extension over the `mqtt-status` core.
//!
//! This module only converts: Python values in, core calls, core answers out (as native
//! `Transition` objects, tuples, or the core's own serde JSON, which
//! `python/mqtt_status/__init__.py` wraps into frozen dataclasses).
//! Every judgment lives in the core. The engine sits behind a `Mutex`, so one engine may be shared
//! by threads; batch ingests run with the GIL released.

use std::sync::{Mutex, MutexGuard, PoisonError};

use mqtt_status::{
    BatchOptions, Config, Error, ErrorCode, ObserveArgs, OnlineQuery, OptionValue, OptionsArg, StatusEngine,
    TransitionRef,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyString, PyTuple, PyType};

mod store;
mod transition;
use transition::Transition;

/// Python class name of the exception raised for each core error code (`mqtt_status._errors`).
fn exception_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidJson => "InvalidJson",
        ErrorCode::MissingField => "MissingField",
        ErrorCode::InvalidField => "InvalidField",
        ErrorCode::UnknownEventType => "UnknownEventType",
        ErrorCode::TagMismatch => "TagMismatch",
        ErrorCode::InvalidSnapshot => "InvalidSnapshot",
        ErrorCode::ConfigMismatch => "ConfigMismatch",
        ErrorCode::StoreUnavailable => "StoreUnavailable",
        ErrorCode::StoreLocked => "StoreLocked",
    }
}

/// Turns a core error into the matching `mqtt_status` exception, with `.code` and `.field`.
pub(crate) fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = py.import("mqtt_status._errors")?;
        let class = module.getattr(exception_name(e.code()))?;
        let value = class.call1((e.to_string(), e.code().as_str(), e.field()))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|err| err)
}

/// What kind of value `v` is, for the core's option checks (no rule here): `None` absent, `bool`,
/// `int`/`float` a number (`inf` when an `int` is too large for a float), `str` text.
pub(crate) fn option_value(v: Option<&Bound<'_, PyAny>>) -> OptionValue {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return OptionValue::Absent;
    };
    if let Ok(b) = v.cast::<PyBool>() {
        OptionValue::Bool(b.is_true())
    } else if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        OptionValue::Number(v.extract::<f64>().unwrap_or(f64::INFINITY))
    } else if let Some(s) = v.cast::<PyString>().ok().and_then(|s| s.to_cow().ok().map(|s| s.into_owned())) {
        OptionValue::Text(s)
    } else {
        OptionValue::Other
    }
}

/// Named arguments for the core's option checks, each with its camelCase key.
pub(crate) fn named<'a>(
    args: &[(&'a str, Option<&Bound<'_, PyAny>>)],
) -> OptionsArg<Vec<(&'a str, OptionValue)>> {
    OptionsArg::Entries(args.iter().map(|(k, v)| (*k, option_value(*v))).collect())
}

/// The bytes of a `str` that is not valid Unicode (lone surrogates), encoded with
/// `surrogatepass`: not UTF-8, so the core rejects them as `invalid_json` (and counts them) like
/// any other bytes that are not UTF-8.
pub(crate) fn surrogate_bytes(s: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
    s.call_method1("encode", ("utf-8", "surrogatepass"))?.extract::<Vec<u8>>()
}

/// Input bytes of one body: `str` (UTF-8 encoded) or a bytes-like object.
pub(crate) fn body_bytes(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = value.cast::<PyString>() {
        return match s.to_cow() {
            Ok(s) => Ok(s.into_owned().into_bytes()),
            Err(_) => surrogate_bytes(s),
        };
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str, bytes or dict, not {}",
        value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    )))
}

/// The bytes of a snapshot or record argument (`bytes`, `bytearray` or a sequence of ints).
pub(crate) fn snapshot_bytes(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else if let Ok(v) = data.extract::<Vec<u8>>() {
        Ok(v)
    } else {
        Err(PyTypeError::new_err("snapshot data must be bytes"))
    }
}

/// A configuration as the Python layer reads it (`_config_dict` in `__init__.py`), the same for
/// engines and stores.
pub(crate) type ConfigTuple = (bool, bool, u32, u32, u32, &'static str, u64);

pub(crate) fn config_tuple(c: &Config) -> ConfigTuple {
    (
        c.close_on_disconnect,
        c.takeover,
        c.tombstones_per_client,
        c.max_id_len,
        c.max_open_channels,
        c.source.as_str(),
        c.offline_grace_ms,
    )
}

/// The configuration from a dict with every binding's camelCase keys, checked by the core
/// (`Config::from_options`): engines and stores read their options the same way.
pub(crate) fn config_from_dict(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Config> {
    let entries: Vec<(String, OptionValue)> = options
        .iter()
        .map(|(k, v)| Ok((k.extract::<String>()?, option_value(Some(&v)))))
        .collect::<PyResult<_>>()?;
    Config::from_options(OptionsArg::Entries(entries)).map_err(|e| to_pyerr(py, &e))
}

/// A tag that is not valid Unicode (lone surrogates) cannot reach the core as `&str`.
pub(crate) fn bad_tag() -> Error {
    Error::InvalidField { field: "tag", reason: "not valid Unicode (lone surrogate)".to_string() }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // The core's output types serialize infallibly (plain structs, strings and numbers).
    serde_json::to_string(value).unwrap_or_else(|_| String::from("null"))
}

/// A batch error as a tuple `(index, code, field, message)`.
pub(crate) type ErrorTuple = (u64, String, Option<String>, String);

/// A batch report as `(applied, duplicates, late, rejected, errors, transitions)`, built after
/// the GIL is taken back; `transitions` is a tuple of native `Transition` objects.
pub(crate) type ReportTuple<'py> = (u64, u64, u64, u64, Vec<ErrorTuple>, Bound<'py, PyTuple>);

/// A batch's report and its transitions, owned.
pub(crate) type Batch = (mqtt_status::BatchReport, Vec<mqtt_status::Transition>);

/// Runs a batch (the caller releases the GIL) with each transition made owned as it happens:
/// every id is copied once, into the string its Python `Transition` keeps, and not first into
/// the report's own compact list.
pub(crate) fn owned_batch(
    run: impl FnOnce(&mut dyn FnMut(TransitionRef<'_>)) -> mqtt_status::BatchReport,
) -> Batch {
    let mut owned = Vec::new();
    let report = run(&mut |t| owned.push(t.to_transition()));
    (report, owned)
}

pub(crate) fn report_tuple(py: Python<'_>, (report, owned): Batch) -> PyResult<ReportTuple<'_>> {
    let transitions =
        owned.into_iter().map(|t| Transition::new_untracked(py, t)).collect::<PyResult<Vec<_>>>()?;
    let errors = report.errors.into_iter().map(|e| (e.index, e.code, e.field, e.message)).collect();
    let counts = (report.applied, report.duplicates, report.late, report.rejected);
    Ok((counts.0, counts.1, counts.2, counts.3, errors, PyTuple::new(py, transitions)?))
}

/// A required whole-number argument (a time, a limit), checked by the core
/// ([`OptionValue::required_integer`]).
pub(crate) fn required_int(py: Python<'_>, v: &Bound<'_, PyAny>, field: &'static str) -> PyResult<u64> {
    option_value(Some(v)).required_integer(field).map_err(|e| to_pyerr(py, &e))
}

/// `until` of a batch, checked by the core (`BatchOptions`).
fn batch_until(py: Python<'_>, until: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    BatchOptions::from_options(named(&[("until", until)])).map(|o| o.until).map_err(|e| to_pyerr(py, &e))
}

/// The engine, shareable across threads.
#[pyclass(module = "mqtt_status._native", name = "Engine", frozen)]
struct Engine {
    inner: Mutex<StatusEngine>,
}

impl Engine {
    fn wrap(engine: StatusEngine) -> Self {
        Engine { inner: Mutex::new(engine) }
    }

    fn lock(&self) -> MutexGuard<'_, StatusEngine> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the engine: straight away if the lock is free, otherwise waiting for it with
    /// the GIL released (so a long batch in another thread never blocks the interpreter).
    fn with<R, F>(&self, py: Python<'_>, f: F) -> R
    where
        F: FnOnce(&mut StatusEngine) -> R + Send,
        R: Send,
    {
        match self.inner.try_lock() {
            Ok(mut guard) => f(&mut guard),
            Err(std::sync::TryLockError::Poisoned(p)) => f(&mut p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => py.detach(|| f(&mut self.lock())),
        }
    }
}

/// `observe`'s arguments as the core reads them (one reading for engine and store).
pub(crate) fn observe_args(
    client_id: &Bound<'_, PyAny>,
    online: &Bound<'_, PyAny>,
    time_ms: &Bound<'_, PyAny>,
) -> Result<ObserveArgs, mqtt_status::Error> {
    ObserveArgs::from_values(
        option_value(Some(client_id)),
        option_value(Some(online)),
        option_value(Some(time_ms)),
    )
}

/// `stale_online`'s `(older_than_ms, now_ms, limit)` (one reading for engine and store).
pub(crate) fn stale_args(
    py: Python<'_>,
    older_than_ms: &Bound<'_, PyAny>,
    now_ms: &Bound<'_, PyAny>,
    limit: &Bound<'_, PyAny>,
) -> PyResult<(u64, u64, usize)> {
    let older = required_int(py, older_than_ms, "olderThanMs")?;
    let now = required_int(py, now_ms, "nowMs")?;
    Ok((older, now, usize::try_from(required_int(py, limit, "limit")?).unwrap_or(usize::MAX)))
}

#[pymethods]
impl Engine {
    /// `options`: a dict with the camelCase keys of every binding (`closeOnDisconnect`, …),
    /// checked by the core (`Config::from_options`).
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let config = config_from_dict(py, options)?;
        mqtt_status_store::new_engine(config).map(Engine::wrap).map_err(|e| to_pyerr(py, &e))
    }

    /// The configuration as `(close_on_disconnect, takeover, tombstones_per_client, max_id_len,
    /// max_open_channels)`.
    fn config(&self, py: Python<'_>) -> ConfigTuple {
        config_tuple(&self.with(py, |e| *e.config()))
    }

    /// One body or envelope (`str` or bytes-like); returns a transition tuple or `None`.
    #[pyo3(signature = (body, tag=None))]
    fn ingest(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        tag: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Py<Transition>>> {
        let tag: Option<String> = match tag {
            None => None,
            Some(t) => match t.cast::<PyString>() {
                Ok(s) => Some(s.to_cow().map_err(|_| to_pyerr(py, &bad_tag()))?.to_string()),
                Err(_) => return Err(PyTypeError::new_err("tag must be str or None")),
            },
        };
        // Borrow str/bytes without copying on the hot path.
        let result = if let Ok(b) = body.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            self.with(py, |e| e.ingest_json(bytes, tag.as_deref()))
        } else if let Ok(s) = body.cast::<PyString>() {
            match s.to_cow() {
                Ok(text) => self.with(py, |e| e.ingest_json(text.as_bytes(), tag.as_deref())),
                Err(_) => {
                    let v = surrogate_bytes(s)?;
                    self.with(py, |e| e.ingest_json(&v, tag.as_deref()))
                }
            }
        } else {
            let v = body_bytes(body, "body")?;
            self.with(py, |e| e.ingest_json(&v, tag.as_deref()))
        };
        match result {
            Ok(Some(t)) => Transition::new_untracked(py, t).map(|t| Some(t.unbind())),
            Ok(None) => Ok(None),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// JSONL text (`str` or bytes-like), GIL released; returns the batch report as a tuple.
    #[pyo3(signature = (data, until=None))]
    fn ingest_many<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        until: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<ReportTuple<'py>> {
        let until = batch_until(py, until)?;
        let run = |bytes: &[u8]| owned_batch(|sink| self.lock().ingest_many_each(bytes, until, sink));
        let batch = if let Ok(b) = data.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            py.detach(|| run(bytes))
        } else {
            let bytes = body_bytes(data, "data")?;
            py.detach(|| run(&bytes))
        };
        report_tuple(py, batch)
    }

    /// A list of bodies/envelopes (each `str` or bytes-like), GIL released; report as a tuple.
    #[pyo3(signature = (items, until=None))]
    fn ingest_items<'py>(
        &self,
        py: Python<'py>,
        items: Vec<Bound<'py, PyAny>>,
        until: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<ReportTuple<'py>> {
        let until = batch_until(py, until)?;
        let mut owned: Vec<Vec<u8>> = Vec::with_capacity(items.len());
        for item in &items {
            owned.push(body_bytes(item, "item")?);
        }
        let batch =
            py.detach(|| owned_batch(|sink| self.lock().ingest_items_each(owned.iter(), until, sink)));
        report_tuple(py, batch)
    }

    /// Whether the client is online; an id that is not valid Unicode (a lone surrogate) cannot
    /// be any client's, so it is unknown: `False`.
    fn is_online(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> bool {
        match client_id.to_cow() {
            Ok(id) => self.with(py, |e| e.is_online(&id)),
            Err(_) => false,
        }
    }

    /// Tells the engine the host's time (grace, SPEC §9): the offline transitions it confirmed,
    /// sorted by (time, clientId). Runs with the GIL released (it may confirm many clients).
    fn advance(&self, py: Python<'_>, now_ms: &Bound<'_, PyAny>) -> PyResult<Vec<Py<Transition>>> {
        let now = required_int(py, now_ms, "now")?;
        let due = py.detach(|| self.lock().advance(now)).map_err(|e| to_pyerr(py, &e))?;
        due.into_iter().map(|t| Transition::new_untracked(py, t).map(Bound::unbind)).collect()
    }

    /// Records an authoritative answer about a client (SPEC §9); the transition it caused, or
    /// `None`. A bad argument is rejected like a bad notification: typed, counted, no change.
    fn observe(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        online: &Bound<'_, PyAny>,
        time_ms: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Py<Transition>>> {
        let result = match observe_args(client_id, online, time_ms) {
            Ok(a) => self.with(py, |e| e.observe(&a.client_id, a.online, a.time_ms)),
            Err(bad) => Err(self.with(py, |e| e.reject_unread(bad))),
        };
        match result.map_err(|e| to_pyerr(py, &e))? {
            Some(t) => Transition::new_untracked(py, t).map(|t| Some(t.unbind())),
            None => Ok(None),
        }
    }

    /// `[(client_id, last_seen), …]`: online clients with no sign of life for `older_than_ms`
    /// before `now_ms`, oldest first, at most `limit` (GIL released: it reads every client).
    fn stale_online(
        &self,
        py: Python<'_>,
        older_than_ms: &Bound<'_, PyAny>,
        now_ms: &Bound<'_, PyAny>,
        limit: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(String, u64)>> {
        let (older, now, limit) = stale_args(py, older_than_ms, now_ms, limit)?;
        let stale = py.detach(|| self.lock().stale_online(older, now, limit));
        Ok(stale.into_iter().map(|s| (s.client_id, s.last_seen)).collect())
    }

    /// The client's status as JSON, or `None` if never seen (or not valid Unicode, as above).
    fn client(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> Option<String> {
        let id = client_id.to_cow().ok()?;
        self.with(py, |e| e.client(&id)).map(|c| to_json(&c))
    }

    /// Online ids; the arguments are checked by the core (`OnlineQuery`), like every binding's.
    #[pyo3(signature = (group=None, after=None, limit=None))]
    fn online_clients(
        &self,
        py: Python<'_>,
        group: Option<&Bound<'_, PyAny>>,
        after: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let arg = named(&[("group", group), ("after", after), ("limit", limit)]);
        let q = OnlineQuery::from_options(arg).map_err(|e| to_pyerr(py, &e))?;
        Ok(self.with(py, |e| e.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit)))
    }

    #[pyo3(signature = (group=None))]
    fn count_online(&self, py: Python<'_>, group: Option<&str>) -> u64 {
        self.with(py, |e| e.count_online(group))
    }

    /// `[(group_id, online, known), …]`, sorted by group id.
    fn groups(&self, py: Python<'_>) -> Vec<(String, u64, u64)> {
        self.with(py, |e| e.groups()).into_iter().map(|g| (g.group_id, g.online, g.known)).collect()
    }

    /// The stats as JSON.
    fn stats(&self, py: Python<'_>) -> String {
        to_json(&self.with(py, |e| e.stats()))
    }

    /// The snapshot, GIL released: a large engine takes long to encode (seconds for a million
    /// clients), and other threads must not stall meanwhile (tests/test_gil.py).
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| self.lock().snapshot());
        PyBytes::new(py, &bytes)
    }

    /// The client's per-client record (SPEC §8), or `None` for a client the engine does not know
    /// (or an id that is not valid Unicode: no client can have it).
    fn client_record<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'_, PyString>,
    ) -> Option<Bound<'py, PyBytes>> {
        let id = client_id.to_cow().ok()?;
        self.with(py, |e| e.client_record(&id)).map(|b| PyBytes::new(py, &b))
    }

    /// Loads a per-client record, replacing that client's state (`InvalidSnapshot` for a corrupt
    /// record or one of another client; nothing changes then).
    fn load_record(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyString>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let bytes = snapshot_bytes(data)?;
        let Ok(id) = client_id.to_cow() else {
            let reason = "not valid Unicode (lone surrogate)".to_string();
            return Err(to_pyerr(py, &Error::InvalidField { field: "clientId", reason }));
        };
        self.with(py, |e| e.load_record(&id, &bytes)).map_err(|e| to_pyerr(py, &e))
    }

    #[classmethod]
    fn restore(_cls: &Bound<'_, PyType>, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes = snapshot_bytes(data)?;
        let engine = py.detach(|| mqtt_status_store::restore_engine(&bytes));
        engine.map(Engine::wrap).map_err(|e| to_pyerr(py, &e))
    }

    /// Joins `other`'s state into this engine. Merging an engine with itself changes nothing.
    fn merge(&self, py: Python<'_>, other: &Bound<'_, Engine>) -> PyResult<()> {
        let other = other.get();
        if std::ptr::eq(self, other) {
            return Ok(());
        }
        // Lock both in address order, with the GIL released, so that `a.merge(b)` and
        // `b.merge(a)` in two threads cannot deadlock.
        let result = py.detach(|| {
            let self_first = (self as *const Engine) < (other as *const Engine);
            let (first, second) = if self_first { (self, other) } else { (other, self) };
            let g1 = first.lock();
            let g2 = second.lock();
            let (mut mine, theirs) = if self_first { (g1, g2) } else { (g2, g1) };
            mine.merge(&theirs)
        });
        result.map_err(|e| to_pyerr(py, &e))
    }
}

/// The native half of the `mqtt_status` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Transition>()?;
    m.add_class::<store::Store>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SNAPSHOT_VERSION", mqtt_status::SNAPSHOT_VERSION)?;
    // The core's error codes, in its order: `_errors.py` has one class per code (tested).
    m.add("ERROR_CODES", PyTuple::new(m.py(), ErrorCode::ALL.map(ErrorCode::as_str))?)?;
    Ok(())
}
