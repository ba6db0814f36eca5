//! `mqtt_status._native.Store`: the status store (`mqtt-status-store`, SPEC §8) for Python.
//!
//! Only conversions: every call that talks to the backend runs with the GIL released
//! (`py.detach`), so other Python threads run while one waits for Redis (and concurrent
//! `ingest` calls from several threads share commits: the store's group commit). The store is
//! `Send + Sync`, so the class is `frozen` and needs no lock of its own.

use mqtt_status::OnlineQuery;
use mqtt_status_store::StatusStore;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString, PyTuple};

use crate::transition::Transition;
use crate::{bad_tag, body_bytes, named, report_tuple, to_json, to_pyerr, ReportTuple};

/// One feed entry as `(cursor, transition)`.
type EntryTuple<'py> = (String, Bound<'py, Transition>);

/// A status store handle, shareable across threads.
#[pyclass(module = "mqtt_status._native", name = "Store", frozen)]
pub(crate) struct Store {
    inner: StatusStore,
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
        store.map(|inner| Store { inner }).map_err(|e| to_pyerr(py, &e))
    }

    /// The configuration, as the engine's `config()` gives it.
    fn config(&self) -> crate::ConfigTuple {
        crate::config_tuple(self.inner.config())
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
        match py.detach(|| self.inner.ingest_json(&bytes, tag.as_deref())) {
            Ok(Some(t)) => Transition::new_untracked(py, t).map(|t| Some(t.unbind())),
            Ok(None) => Ok(None),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// JSONL text (`str` or bytes-like); returns the batch report as a tuple once committed.
    fn ingest_many<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<ReportTuple<'py>> {
        let bytes = body_bytes(data, "data")?;
        let report = py.detach(|| self.inner.ingest_many(&bytes)).map_err(|e| to_pyerr(py, &e))?;
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
        let report = py.detach(|| {
            let refs: Vec<(&[u8], Option<&str>)> = owned.iter().map(|b| (b.as_slice(), None)).collect();
            self.inner.ingest_items(&refs)
        });
        let report = report.map_err(|e| to_pyerr(py, &e))?;
        let transitions = report.transitions.to_vec();
        report_tuple(py, (report, transitions))
    }

    /// Whether the client is online in the shared state (an id that is not valid Unicode
    /// cannot be any client's: `False`).
    fn is_online(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> PyResult<bool> {
        let Ok(id) = client_id.to_cow() else { return Ok(false) };
        let id = id.into_owned();
        py.detach(|| self.inner.is_online(&id)).map_err(|e| to_pyerr(py, &e))
    }

    /// The client's status as JSON, or `None` if never seen.
    fn client(&self, py: Python<'_>, client_id: &Bound<'_, PyString>) -> PyResult<Option<String>> {
        let Ok(id) = client_id.to_cow() else { return Ok(None) };
        let id = id.into_owned();
        let c = py.detach(|| self.inner.client(&id)).map_err(|e| to_pyerr(py, &e))?;
        Ok(c.map(|c| to_json(&c)))
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
        let ids = py.detach(|| self.inner.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit));
        ids.map_err(|e| to_pyerr(py, &e))
    }

    #[pyo3(signature = (group=None))]
    fn count_online(&self, py: Python<'_>, group: Option<&str>) -> PyResult<u64> {
        let group = group.map(str::to_owned);
        py.detach(|| self.inner.count_online(group.as_deref())).map_err(|e| to_pyerr(py, &e))
    }

    /// `[(group_id, online, known), …]`, sorted by group id.
    fn groups(&self, py: Python<'_>) -> PyResult<Vec<(String, u64, u64)>> {
        let groups = py.detach(|| self.inner.groups()).map_err(|e| to_pyerr(py, &e))?;
        Ok(groups.into_iter().map(|g| (g.group_id, g.online, g.known)).collect())
    }

    /// The stats as JSON.
    fn stats(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.stats()).map(|s| to_json(&s)).map_err(|e| to_pyerr(py, &e))
    }

    /// The whole store in the engine's snapshot format.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| self.inner.snapshot()).map_err(|e| to_pyerr(py, &e))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Merges a snapshot (same configuration) into the store.
    fn load_snapshot(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes: Vec<u8> = if let Ok(b) = data.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            b.to_vec()
        } else {
            return Err(PyTypeError::new_err("snapshot data must be bytes"));
        };
        py.detach(|| self.inner.load_snapshot(&bytes)).map_err(|e| to_pyerr(py, &e))
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
        let page = py.detach(|| self.inner.transitions(q.after.as_deref(), q.limit));
        let page = page.map_err(|e| to_pyerr(py, &e))?;
        let entries = page
            .entries
            .into_iter()
            .map(|e| Ok((e.cursor, Transition::new_untracked(py, e.transition)?)))
            .collect::<PyResult<Vec<EntryTuple<'py>>>>()?;
        Ok((PyTuple::new(py, entries)?, page.next))
    }
}
