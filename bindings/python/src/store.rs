//! `mqtt_status._native.Store`: the status store (`mqtt-status-store`, SPEC §8) for Python.
//!
//! Only conversions: every call that talks to the backend runs with the GIL released
//! (`py.detach`), so other Python threads run while one waits for Redis (and concurrent
//! `ingest` calls from several threads share commits: the store's group commit). The store is
//! `Send + Sync`; the handle's only lock is the one `close()` takes: calls share it (read), and
//! `close()` waits (write, GIL released) for the calls running to end, then drops the store,
//! which releases a file store's lock and a Redis store's connections.

use std::sync::{PoisonError, RwLock};

use mqtt_status::{Error, OnlineQuery};
use mqtt_status_store::StatusStore;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

use crate::transition::Transition;
use crate::{bad_tag, body_bytes, named, report_tuple, snapshot_bytes, to_json, to_pyerr, ReportTuple};

/// One feed entry as `(cursor, transition)`.
type EntryTuple<'py> = (String, Bound<'py, Transition>);

/// A status store handle, shareable across threads.
#[pyclass(module = "mqtt_status._native", name = "Store", frozen)]
pub(crate) struct Store {
    /// `None` once closed.
    inner: RwLock<Option<StatusStore>>,
}

/// The `StoreClosed` exception (code `store_closed`) for a call on a closed handle: a usage
/// error of the Python object, not one of the core's codes.
fn closed(py: Python<'_>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("mqtt_status._errors")?.getattr("StoreClosed")?;
        Ok(PyErr::from_value(class.call1(("the StatusStore is closed", "store_closed", py.None()))?))
    };
    build().unwrap_or_else(|err| err)
}

impl Store {
    /// Runs `f` on the open store with the GIL released (waiting for the handle's lock too, so a
    /// `close()` waiting in another thread never blocks the interpreter); `StoreClosed` once closed.
    fn call<R, F>(&self, py: Python<'_>, f: F) -> PyResult<R>
    where
        F: FnOnce(&StatusStore) -> Result<R, Error> + Send,
        R: Send,
    {
        let out = py.detach(|| self.inner.read().unwrap_or_else(PoisonError::into_inner).as_ref().map(f));
        match out {
            Some(result) => result.map_err(|e| to_pyerr(py, &e)),
            None => Err(closed(py)),
        }
    }
}

/// The tag argument as Rust text (`None`, or a `str` that is valid Unicode).
fn tag_text(py: Python<'_>, tag: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    match tag {
        None => Ok(None),
        Some(t) => match t.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow().map_err(|_| to_pyerr(py, &bad_tag()))?.into_owned())),
            Err(_) => Err(PyTypeError::new_err("tag must be str or None")),
        },
    }
}

#[pymethods]
impl Store {
    /// Opens (creating if new) the store at `url`; `options` is a dict with the camelCase keys
    /// of every binding, checked by the core (`Config::from_options`). Connecting runs with the
    /// GIL released.
    #[staticmethod]
    fn open(py: Python<'_>, url: &str, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let config = crate::config_from_dict(py, options)?;
        let url = url.to_owned();
        let store = py.detach(|| StatusStore::open(&url, config));
        store.map(|s| Store { inner: RwLock::new(Some(s)) }).map_err(|e| to_pyerr(py, &e))
    }

    /// Closes the handle once the calls running on it have ended (waiting with the GIL
    /// released): a file store's lock and a Redis store's connections are released; every later
    /// call raises `StoreClosed`. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| drop(self.inner.write().unwrap_or_else(PoisonError::into_inner).take()));
    }

    /// Whether `close()` was called.
    fn is_closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.inner.read().unwrap_or_else(PoisonError::into_inner).is_none())
    }

    /// The configuration, as the engine's `config()` gives it.
    fn config(&self, py: Python<'_>) -> PyResult<crate::ConfigTuple> {
        self.call(py, |s| Ok(crate::config_tuple(s.config())))
    }

    /// One body or envelope (`str` or bytes-like); returns a `Transition` or `None` once the
    /// commit is done.
    #[pyo3(signature = (body, tag=None))]
    fn ingest(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        tag: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Py<Transition>>> {
        let tag = tag_text(py, tag)?;
        let bytes = body_bytes(body, "body")?;
        match self.call(py, |s| s.ingest_json(&bytes, tag.as_deref()))? {
            Some(t) => Transition::new_untracked(py, t).map(|t| Some(t.unbind())),
            None => Ok(None),
        }
    }

    /// JSONL text (`str` or bytes-like); returns the batch report as a tuple once committed.
    fn ingest_many<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<ReportTuple<'py>> {
        let bytes = body_bytes(data, "data")?;
        let report = self.call(py, |s| s.ingest_many(&bytes))?;
        let owned = report.transitions.to_vec();
        report_tuple(py, (report, owned))
    }

    /// A list of bodies/envelopes (each `str` or bytes-like); report as a tuple.
    fn ingest_items<'py>(
        &self,
        py: Python<'py>,
        items: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<ReportTuple<'py>> {
        let owned: Vec<Vec<u8>> = items.iter().map(|i| body_bytes(i, "item")).collect::<PyResult<_>>()?;
        let report = self.call(py, |s| {
            let refs: Vec<(&[u8], Option<&str>)> = owned.iter().map(|b| (b.as_slice(), None)).collect();
            s.ingest_items(&refs)
        })?;
        let transitions = report.transitions.to_vec();
        report_tuple(py, (report, transitions))
    }

    /// `advance(now_ms)` (SPEC §9): the offlines it confirmed, once committed and fed (each to
    /// exactly one handle of the store).
    fn advance(&self, py: Python<'_>, now_ms: &Bound<'_, PyAny>) -> PyResult<Vec<Py<Transition>>> {
        let now = crate::required_int(py, now_ms, "now")?;
        let due = self.call(py, |s| s.advance(now))?;
        due.into_iter().map(|t| Transition::new_untracked(py, t).map(Bound::unbind)).collect()
    }

    /// `observe(client_id, online, time_ms)` (SPEC §9), committed; the transition it caused. A
    /// bad argument is rejected like a bad notification: typed, counted, no change.
    fn observe(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        online: &Bound<'_, PyAny>,
        time_ms: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Py<Transition>>> {
        let result = match crate::observe_args(client_id, online, time_ms) {
            Ok(a) => self.call(py, |s| s.observe(&a.client_id, a.online, a.time_ms))?,
            Err(bad) => return Err(to_pyerr(py, &self.call(py, |s| Ok(s.reject_unread(bad)))?)),
        };
        match result {
            Some(t) => Transition::new_untracked(py, t).map(|t| Some(t.unbind())),
            None => Ok(None),
        }
    }

    /// `[(client_id, last_seen), …]`: online clients with no sign of life for `older_than_ms`
    /// before `now_ms`, oldest first, at most `limit` (from the store's index).
    fn stale_online(
        &self,
        py: Python<'_>,
        older_than_ms: &Bound<'_, PyAny>,
        now_ms: &Bound<'_, PyAny>,
        limit: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(String, u64)>> {
        let (older, now, limit) = crate::stale_args(py, older_than_ms, now_ms, limit)?;
        let stale = self.call(py, |s| s.stale_online(older, now, limit))?;
        Ok(stale.into_iter().map(|s| (s.client_id, s.last_seen)).collect())
    }

    /// Whether the client is online in the shared state (an id that is not valid Unicode
    /// cannot be any client's: `False`).
    fn is_online(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> PyResult<bool> {
        let Ok(id) = client_id.to_cow() else { return Ok(false) };
        let id = id.into_owned();
        self.call(py, |s| s.is_online(&id))
    }

    /// The client's status as JSON, or `None` if never seen.
    fn client(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> PyResult<Option<String>> {
        let Ok(id) = client_id.to_cow() else { return Ok(None) };
        let id = id.into_owned();
        Ok(self.call(py, |s| s.client(&id))?.map(|c| to_json(&c)))
    }

    /// Online ids; the arguments are checked by the core (`OnlineQuery`).
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
        self.call(py, |s| s.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit))
    }

    #[pyo3(signature = (group=None))]
    fn count_online(&self, py: Python<'_>, group: Option<&str>) -> PyResult<u64> {
        let group = group.map(str::to_owned);
        self.call(py, |s| s.count_online(group.as_deref()))
    }

    /// `[(group_id, online, known), …]`, sorted by group id.
    fn groups(&self, py: Python<'_>) -> PyResult<Vec<(String, u64, u64)>> {
        let groups = self.call(py, StatusStore::groups)?;
        Ok(groups.into_iter().map(|g| (g.group_id, g.online, g.known)).collect())
    }

    /// The stats as JSON.
    fn stats(&self, py: Python<'_>) -> PyResult<String> {
        self.call(py, StatusStore::stats).map(|s| to_json(&s))
    }

    /// The whole store in the engine's snapshot format.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.call(py, StatusStore::snapshot)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Merges a snapshot (same configuration) into the store.
    fn load_snapshot(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = snapshot_bytes(data)?;
        self.call(py, |s| s.load_snapshot(&bytes))
    }

    /// Commits this handle made for ingest calls (group commit: fewer than the calls when
    /// calls from several threads overlapped).
    fn group_commits(&self, py: Python<'_>) -> PyResult<u64> {
        self.call(py, |s| Ok(s.group_commits()))
    }

    /// A page of the feed as `(entries, next)`, each entry `(cursor, transition)`; `after` and
    /// `limit` are checked by the core like `online_clients`' arguments.
    #[pyo3(signature = (after=None, limit=None))]
    fn transitions<'py>(
        &self,
        py: Python<'py>,
        after: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyTuple>, String)> {
        let q = OnlineQuery::from_options(named(&[("after", after), ("limit", limit)]))
            .map_err(|e| to_pyerr(py, &e))?;
        let page = self.call(py, |s| s.transitions(q.after.as_deref(), q.limit))?;
        let entries = page
            .entries
            .into_iter()
            .map(|e| Ok((e.cursor, Transition::new_untracked(py, e.transition)?)))
            .collect::<PyResult<Vec<EntryTuple<'py>>>>()?;
        Ok((PyTuple::new(py, entries)?, page.next))
    }
}
