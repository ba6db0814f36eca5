//! `mqtt_status.Transition`, a native class: a batch can return hundreds of thousands of them, and
//! building a Python object here costs a fraction of a dataclass built from JSON in Python (the
//! strings become Python strings only when read).

use std::borrow::Cow;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

/// A client's online status flipped; returned by the ingest that caused it.
#[pyclass(module = "mqtt_status", name = "Transition", frozen, eq, hash)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Transition {
    client_id: String,
    online: bool,
    time: u64,
    channel_id: String,
    event_type: Cow<'static, str>,
    /// With a grace: the start of the unreported offline period this online flip ends.
    offline_since: Option<u64>,
}

impl From<mqtt_status::Transition> for Transition {
    fn from(t: mqtt_status::Transition) -> Self {
        Transition {
            client_id: t.client_id,
            online: t.online,
            time: t.time,
            channel_id: t.channel_id,
            event_type: Cow::Borrowed(t.event_type.as_str()),
            offline_since: t.offline_since,
        }
    }
}

impl Transition {
    /// A new Python `Transition` from the core's, left out of the cycle collector.
    ///
    /// pyo3 registers every instance with the garbage collector, which then walks all of a
    /// batch's transitions again and again while the batch builds them (it showed as ~15 % of a
    /// 1M-event `ingest_many`). A `Transition` holds no Python references, so it can never be
    /// part of a cycle: CPython untracks such objects itself (tuples of atoms, dicts of atoms).
    pub(crate) fn new_untracked(py: Python<'_>, t: mqtt_status::Transition) -> PyResult<Bound<'_, Self>> {
        let obj = Bound::new(py, Transition::from(t))?;
        // SAFETY: `obj` is a live object we own; untracking an object without references to
        // other Python objects is always sound (and `tp_dealloc` copes with untracked objects).
        unsafe { pyo3::ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
        Ok(obj)
    }
}

/// An event type as a Python string: one interned string per wire name (read without building a
/// string), a new one for any other name a caller gave the constructor.
fn event_type_str<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyString> {
    match name {
        "connect" => intern!(py, "connect").clone(),
        "disconnect" => intern!(py, "disconnect").clone(),
        "tcpclean" => intern!(py, "tcpclean").clone(),
        "observe" => intern!(py, "observe").clone(),
        other => PyString::new(py, other),
    }
}

/// The fields in declaration order (what `__match_args__`, `__reduce__` and `repr` follow).
const FIELDS: (&str, &str, &str, &str, &str, &str) =
    ("client_id", "online", "time", "channel_id", "event_type", "offline_since");

#[pymethods]
impl Transition {
    #[new]
    #[pyo3(signature = (client_id, online, time, channel_id, event_type, offline_since=None))]
    fn new(
        client_id: String,
        online: bool,
        time: u64,
        channel_id: String,
        event_type: String,
        offline_since: Option<u64>,
    ) -> Self {
        let event_type = Cow::Owned(event_type);
        Transition { client_id, online, time, channel_id, event_type, offline_since }
    }

    /// The client that flipped.
    #[getter]
    fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Its new status.
    #[getter]
    fn online(&self) -> bool {
        self.online
    }

    /// Time of the causing event (epoch milliseconds).
    #[getter]
    fn time(&self) -> u64 {
        self.time
    }

    /// Channel of the causing event (`""` for an observation).
    #[getter]
    fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// Type of the causing event: `connect`, `disconnect`, `tcpclean`, or `observe` (an
    /// observation caused it).
    #[getter]
    fn event_type<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        event_type_str(py, &self.event_type)
    }

    /// With `offline_grace_ms`: on an online flip that ends an offline period nobody reported
    /// (it lasted at least the grace), the time that period began; else `None`.
    #[getter]
    fn offline_since(&self) -> Option<u64> {
        self.offline_since
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str)
    {
        FIELDS
    }

    /// The camelCase dict of the JSON API.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item(intern!(py, "clientId"), &self.client_id)?;
        d.set_item(intern!(py, "online"), self.online)?;
        d.set_item(intern!(py, "time"), self.time)?;
        d.set_item(intern!(py, "channelId"), &self.channel_id)?;
        d.set_item(intern!(py, "eventType"), event_type_str(py, &self.event_type))?;
        // Absent unless set, as in the JSON API (with no grace the dict is what it always was).
        if let Some(since) = self.offline_since {
            d.set_item(intern!(py, "offlineSince"), since)?;
        }
        Ok(d)
    }

    /// Pickling and `copy`: rebuilt from the fields.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let t = slf.get();
        let args = (
            t.client_id.as_str(),
            t.online,
            t.time,
            t.channel_id.as_str(),
            t.event_type.as_ref(),
            t.offline_since,
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(slf.py())?))
    }

    /// Like a dataclass's: `Transition(client_id='…', online=True, …)`.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |s: &str| -> PyResult<String> { Ok(PyString::new(py, s).repr()?.to_string()) };
        Ok(format!(
            "Transition(client_id={}, online={}, time={}, channel_id={}, event_type={}, offline_since={})",
            repr(&self.client_id)?,
            if self.online { "True" } else { "False" },
            self.time,
            repr(&self.channel_id)?,
            repr(&self.event_type)?,
            self.offline_since.map_or_else(|| "None".to_string(), |t| t.to_string()),
        ))
    }
}
