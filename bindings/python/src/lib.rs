//! `mqtt_status._native`: the Python extension over the `mqtt-status` core.
//!
//! This module only converts: Python values in, core calls, core answers out (as native
//! `Transition` objects, tuples, or the core's own serde JSON, which
//! `python/mqtt_status/__init__.py` wraps into frozen dataclasses).
//! Every judgment lives in the core. The engine sits behind a `Mutex`, so one engine may be shared
//! by threads; batch ingests run with the GIL released.

use std::sync::{Mutex, MutexGuard, PoisonError};

use mqtt_status::{Config, Error, ErrorCode, StatusEngine, TransitionRef};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyString, PyTuple, PyType};

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
    }
}

/// Turns a core error into the matching `mqtt_status` exception, with `.code` and `.field`.
fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = py.import("mqtt_status._errors")?;
        let class = module.getattr(exception_name(e.code()))?;
        let value = class.call1((e.to_string(), e.code().as_str(), e.field()))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|err| err)
}

/// An `invalid_field` error raised for a bad constructor option.
fn bad_option(py: Python<'_>, field: &'static str, reason: &str) -> PyErr {
    let e = Error::InvalidField { field, reason: reason.to_string() };
    to_pyerr(py, &e)
}

fn bool_option(py: Python<'_>, value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<bool> {
    match value.cast::<PyBool>() {
        Ok(b) => Ok(b.is_true()),
        Err(_) => Err(bad_option(py, field, "must be a bool")),
    }
}

fn u32_option(py: Python<'_>, value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<u32> {
    if value.is_instance_of::<PyBool>() {
        return Err(bad_option(py, field, "must be an int"));
    }
    value.extract::<u32>().map_err(|_| bad_option(py, field, "must be an int in range"))
}

/// The bytes of a `str` that is not valid Unicode (lone surrogates), encoded with
/// `surrogatepass`: not UTF-8, so the core rejects them as `invalid_json` (and counts them) like
/// any other bytes that are not UTF-8.
fn surrogate_bytes(s: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
    s.call_method1("encode", ("utf-8", "surrogatepass"))?.extract::<Vec<u8>>()
}

/// Input bytes of one body: `str` (UTF-8 encoded) or a bytes-like object.
fn body_bytes(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
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

/// A tag that is not valid Unicode (lone surrogates) cannot reach the core as `&str`.
fn bad_tag() -> Error {
    Error::InvalidField { field: "tag", reason: "not valid Unicode (lone surrogate)".to_string() }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // The core's output types serialize infallibly (plain structs, strings and numbers).
    serde_json::to_string(value).unwrap_or_else(|_| String::from("null"))
}

/// A batch error as a tuple `(index, code, field, message)`.
type ErrorTuple = (u64, String, Option<String>, String);

/// A batch report as `(applied, duplicates, late, errors, transitions)`, built after the GIL is
/// taken back; `transitions` is a tuple of native `Transition` objects.
type ReportTuple<'py> = (u64, u64, u64, Vec<ErrorTuple>, Bound<'py, PyTuple>);

/// A batch's report and its transitions, owned.
type Batch = (mqtt_status::BatchReport, Vec<mqtt_status::Transition>);

/// Runs a batch (the caller releases the GIL) with each transition made owned as it happens:
/// every id is copied once, into the string its Python `Transition` keeps, and not first into
/// the report's own compact list.
fn owned_batch(run: impl FnOnce(&mut dyn FnMut(TransitionRef<'_>)) -> mqtt_status::BatchReport) -> Batch {
    let mut owned = Vec::new();
    let report = run(&mut |t| owned.push(t.to_transition()));
    (report, owned)
}

fn report_tuple(py: Python<'_>, (report, owned): Batch) -> PyResult<ReportTuple<'_>> {
    let transitions =
        owned.into_iter().map(|t| Transition::new_untracked(py, t)).collect::<PyResult<Vec<_>>>()?;
    let errors = report.errors.into_iter().map(|e| (e.index, e.code, e.field, e.message)).collect();
    Ok((report.applied, report.duplicates, report.late, errors, PyTuple::new(py, transitions)?))
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

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (close_on_disconnect, takeover, tombstones_per_client, max_id_len))]
    fn new(
        py: Python<'_>,
        close_on_disconnect: &Bound<'_, PyAny>,
        takeover: &Bound<'_, PyAny>,
        tombstones_per_client: &Bound<'_, PyAny>,
        max_id_len: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let config = Config {
            close_on_disconnect: bool_option(py, close_on_disconnect, "closeOnDisconnect")?,
            takeover: bool_option(py, takeover, "takeover")?,
            tombstones_per_client: u32_option(py, tombstones_per_client, "tombstonesPerClient")?,
            max_id_len: u32_option(py, max_id_len, "maxIdLen")?,
            ..Config::default()
        };
        StatusEngine::new(config).map(Engine::wrap).map_err(|e| to_pyerr(py, &e))
    }

    /// The configuration as `(close_on_disconnect, takeover, tombstones_per_client, max_id_len)`.
    fn config(&self, py: Python<'_>) -> (bool, bool, u32, u32) {
        let c = self.with(py, |e| *e.config());
        (c.close_on_disconnect, c.takeover, c.tombstones_per_client, c.max_id_len)
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
        until: Option<u64>,
    ) -> PyResult<ReportTuple<'py>> {
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
        until: Option<u64>,
    ) -> PyResult<ReportTuple<'py>> {
        let mut owned: Vec<Vec<u8>> = Vec::with_capacity(items.len());
        for item in &items {
            owned.push(body_bytes(item, "item")?);
        }
        let batch =
            py.detach(|| owned_batch(|sink| self.lock().ingest_items_each(owned.iter(), until, sink)));
        report_tuple(py, batch)
    }

    fn is_online(&self, py: Python<'_>, client_id: &str) -> bool {
        self.with(py, |e| e.is_online(client_id))
    }

    /// The client's status as JSON, or `None` if never seen.
    fn client(&self, py: Python<'_>, client_id: &str) -> Option<String> {
        self.with(py, |e| e.client(client_id)).map(|c| to_json(&c))
    }

    #[pyo3(signature = (group=None, after=None, limit=None))]
    fn online_clients(
        &self,
        py: Python<'_>,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<String> {
        self.with(py, |e| e.online_clients(group, after, limit))
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

    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = self.with(py, |e| e.snapshot());
        PyBytes::new(py, &bytes)
    }

    #[classmethod]
    fn restore(_cls: &Bound<'_, PyType>, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes: Vec<u8> = if let Ok(b) = data.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            b.to_vec()
        } else if let Ok(v) = data.extract::<Vec<u8>>() {
            v
        } else {
            return Err(PyTypeError::new_err("snapshot data must be bytes"));
        };
        let engine = py.detach(|| StatusEngine::restore(&bytes));
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
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SNAPSHOT_VERSION", mqtt_status::SNAPSHOT_VERSION)?;
    Ok(())
}
