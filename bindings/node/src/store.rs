//! `StatusStore` for Node (SPEC §8): the status store (`mqtt-status-store`) with every method
//! returning a Promise. Arguments are converted on the JavaScript thread; the call itself (the
//! I/O) runs on libuv's thread pool as a napi `AsyncTask`, so it never blocks the event loop.
//! The store is `Send + Sync`: concurrent calls share one handle (and its group commit). The
//! handle's only lock is the one `close()` takes: calls share it (read, on the thread pool), and
//! `close()` waits (write) for the calls running to end, then drops the store, which releases a
//! file store's lock and a Redis store's connections; later calls reject with `store_closed`.
//!
//! Errors reject the Promise with the same coded `Error` (`.code`, `.field`) the engine throws;
//! an argument the core refuses rejects too (no call throws synchronously for a bad input).

use std::sync::{Arc, PoisonError, RwLock};

use mqtt_status::{
    BatchError, BatchReport, ClientStatus, Config, Error as CoreError, GroupCount, OnlineQuery, OptionValue,
    Stats, Transition, TransitionRef, MAX_TIME,
};
use mqtt_status_js_common::{Packer, CLOSED};
use mqtt_status_store::{FeedPage, StatusStore};
use napi::bindgen_prelude::*;
use napi::ScopedTask;
use napi_derive::napi;

use crate::host::{self, raw_bytes, Ran};
use crate::{body, coded, js_error, option_value, options_arg, packed_report, packed_transition, to_js};

/// What a task does, with its arguments already converted.
enum Op {
    Open(String, Config),
    Fail(CoreError),
    Ingest(Vec<u8>, Option<String>),
    IngestMany(Vec<u8>),
    IngestItems(Vec<std::result::Result<Vec<u8>, CoreError>>),
    IsOnline(String),
    Client(String),
    Online(OnlineQuery),
    Count(Option<String>),
    Groups,
    Stats,
    Snapshot,
    LoadSnapshot(Vec<u8>),
    Transitions(Option<String>, Option<usize>),
    Advance(u64),
    Observe(String, bool, u64),
    /// Observe arguments the core refused: counted as rejected by the store, then the error.
    RejectUnread(CoreError),
    Stale(u64, u64, usize),
    GroupCommits,
    Close,
}

/// What a task gives back, turned into JavaScript values on the JavaScript thread.
enum Out {
    Opened(Box<StatusStore>),
    Transition(Option<Transition>),
    Report(BatchReport),
    Bool(bool),
    Client(Option<ClientStatus>),
    Ids(Vec<String>),
    Count(u64),
    Groups(Vec<GroupCount>),
    Stats(Stats),
    Bytes(Vec<u8>),
    Unit,
    Page(FeedPage),
    /// A list or one transition as plain objects (the engine's `advance` / `observe` answers).
    Plain(serde_json::Value),
}

/// A finished call's result (opaque to JavaScript: `resolve` converts it).
/// `None`: the handle was closed before the call.
pub struct Done(Option<std::result::Result<Out, CoreError>>);

/// A handle's store, `None` once closed.
type Handle = Arc<RwLock<Option<StatusStore>>>;

/// One store call, run off the JavaScript thread.
pub struct StoreTask {
    store: Option<Handle>,
    op: Option<Op>,
}

fn run(store: Option<&StatusStore>, op: Op) -> std::result::Result<Out, CoreError> {
    // Only `open` runs without a store (`StatusStore.open` makes no other op).
    let s = || store.ok_or_else(|| CoreError::StoreUnavailable { reason: "the store is not open".into() });
    Ok(match op {
        Op::Open(url, config) => Out::Opened(Box::new(StatusStore::open(&url, config)?)),
        Op::Close => Out::Unit, // done by `compute`
        Op::Fail(e) => return Err(e),
        Op::Ingest(bytes, tag) => Out::Transition(s()?.ingest_json(&bytes, tag.as_deref())?),
        Op::IngestMany(bytes) => Out::Report(s()?.ingest_many(&bytes)?),
        Op::IngestItems(items) => {
            // An item the host could not serialize goes to the store as bytes that are not JSON
            // (rejected and counted there, as the engine counts it); its report entry then gets
            // the host's own error back, the one the engine reports for it.
            let owned: Vec<&[u8]> = items.iter().map(|i| i.as_deref().unwrap_or(b"\xff")).collect();
            let refs: Vec<(&[u8], Option<&str>)> = owned.iter().map(|b| (*b, None)).collect();
            let mut report = s()?.ingest_items(&refs)?;
            for entry in &mut report.errors {
                if let Some(Err(e)) = items.get(entry.index as usize) {
                    *entry = BatchError::new(entry.index, e);
                }
            }
            Out::Report(report)
        }
        Op::IsOnline(id) => Out::Bool(s()?.is_online(&id)?),
        Op::Client(id) => Out::Client(s()?.client(&id)?),
        Op::Online(q) => Out::Ids(s()?.online_clients(q.group.as_deref(), q.after.as_deref(), q.limit)?),
        Op::Count(g) => Out::Count(s()?.count_online(g.as_deref())?),
        Op::Groups => Out::Groups(s()?.groups()?),
        Op::Stats => Out::Stats(s()?.stats()?),
        Op::Snapshot => Out::Bytes(s()?.snapshot()?),
        Op::LoadSnapshot(bytes) => {
            s()?.load_snapshot(&bytes)?;
            Out::Unit
        }
        Op::Transitions(after, limit) => Out::Page(s()?.transitions(after.as_deref(), limit)?),
        Op::Advance(now) => Out::Plain(plain(&s()?.advance(now)?)),
        Op::Observe(id, online, time) => Out::Plain(plain(&s()?.observe(&id, online, time)?)),
        Op::RejectUnread(e) => return Err(s()?.reject_unread(e)),
        Op::Stale(older, now, limit) => Out::Plain(plain(&s()?.stale_online(older, now, limit)?)),
        Op::GroupCommits => Out::Count(s()?.group_commits()),
    })
}

/// An answer as a JSON value (serializing the core's answer types cannot fail).
fn plain(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

impl<'t> ScopedTask<'t> for StoreTask {
    type Output = Done;
    type JsValue = Unknown<'t>;

    fn compute(&mut self) -> Result<Self::Output> {
        let op = self.op.take().ok_or_else(|| Error::from_reason("store task run twice"))?;
        let Some(handle) = &self.store else { return Ok(Done(Some(run(None, op)))) };
        if let Op::Close = op {
            drop(handle.write().unwrap_or_else(PoisonError::into_inner).take());
            return Ok(Done(Some(Ok(Out::Unit))));
        }
        let store = handle.read().unwrap_or_else(PoisonError::into_inner);
        Ok(Done(store.as_ref().map(|s| run(Some(s), op))))
    }

    fn resolve(&mut self, env: &'t Env, output: Self::Output) -> Result<Unknown<'t>> {
        let Done(Some(result)) = output else {
            return Err(coded(env, CLOSED.0, CLOSED.1.into(), None));
        };
        match result.map_err(|e| js_error(env, &e))? {
            Out::Opened(store) => {
                NodeStatusStore { inner: Arc::new(RwLock::new(Some(*store))) }.into_unknown(env)
            }
            Out::Transition(None) => Null.into_unknown(env),
            Out::Transition(Some(t)) => packed_transition(env, TransitionRef::from(&t)),
            Out::Report(report) => {
                // Packed as the engine's `ingestManyPacked`: the npm package unpacks both alike.
                let mut packer = Packer::new();
                for t in &report.transitions {
                    packer.push(t);
                }
                packed_report(env, packer.finish(&report))
            }
            Out::Bool(b) => b.into_unknown(env),
            Out::Client(None) => Null.into_unknown(env),
            Out::Client(Some(c)) => to_js(env, &c),
            Out::Ids(ids) => ids.into_unknown(env),
            Out::Count(n) => (n as f64).into_unknown(env),
            Out::Groups(g) => to_js(env, &g),
            Out::Stats(s) => to_js(env, &s),
            Out::Bytes(b) => Uint8Array::from(b).into_unknown(env),
            Out::Unit => ().into_unknown(env),
            Out::Plain(v) => to_js(env, &v),
            Out::Page(page) => {
                let entries: Vec<_> = page
                    .entries
                    .iter()
                    .map(|e| serde_json::json!({ "cursor": e.cursor, "transition": e.transition }))
                    .collect();
                to_js(env, &serde_json::json!({ "entries": entries, "next": page.next }))
            }
        }
    }
}

/// The raw status store handle (Redis, Redis Cluster, file) the npm package's `StatusStore`
/// (`pkg/api.cjs`) wraps: the engine's queries over durable, shared state, each a Promise.
#[napi(js_name = "StatusStore")]
pub struct NodeStatusStore {
    inner: Handle,
}

impl NodeStatusStore {
    fn task(&self, op: Op) -> AsyncTask<StoreTask> {
        AsyncTask::new(StoreTask { store: Some(self.inner.clone()), op: Some(op) })
    }
}

/// The op, or the op that rejects with the core's error.
fn or_fail<T>(r: std::result::Result<T, CoreError>, op: impl FnOnce(T) -> Op) -> Op {
    r.map_or_else(Op::Fail, op)
}

#[napi]
impl NodeStatusStore {
    /// `await StatusStore.open(url, {closeOnDisconnect, takeover, tombstonesPerClient, maxIdLen})`:
    /// opens (creating if new) the store at `url`; the options are the engine's, checked by the
    /// core. Rejects with `store_unavailable`, `config_mismatch` or `invalid_field`.
    #[napi(ts_return_type = "Promise<StatusStore>")]
    pub fn open(env: Env, url: Unknown<'_>, options: Option<Unknown<'_>>) -> Result<AsyncTask<StoreTask>> {
        let url = option_value(url)?.required_text("url");
        let config = Config::from_options(options_arg(&env, options)?);
        let op = match (url, config) {
            (Ok(url), Ok(config)) => Op::Open(url, config),
            (Err(e), _) | (_, Err(e)) => Op::Fail(e),
        };
        Ok(AsyncTask::new(StoreTask { store: None, op: Some(op) }))
    }

    /// One body or envelope, committed; resolves to `null` or the packed transition (the npm
    /// package's `ingest` unpacks it).
    #[napi(js_name = "ingestPacked")]
    pub fn ingest_packed(
        &self,
        env: Env,
        input: Unknown<'_>,
        tag: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<StoreTask>> {
        let tag = match tag {
            Some(t) => option_value(t)?.text("tag"),
            None => Ok(None),
        };
        let item = body(&env, input)?;
        let op = match (item, tag) {
            (Ok(bytes), Ok(tag)) => Op::Ingest(bytes, tag),
            (Err(e), _) | (_, Err(e)) => Op::Fail(e),
        };
        Ok(self.task(op))
    }

    /// JSONL (string or bytes) or an array of bodies, committed; resolves to the packed report.
    #[napi(js_name = "ingestManyPacked")]
    pub fn ingest_many_packed(&self, env: Env, input: Unknown<'_>) -> Result<AsyncTask<StoreTask>> {
        if let Some(bytes) = raw_bytes(&env, input)? {
            return Ok(self.task(Op::IngestMany(bytes)));
        }
        if !input.is_array()? {
            let reason = "must be a string, a Uint8Array or an array".into();
            return Ok(self.task(Op::Fail(CoreError::InvalidField { field: "input", reason })));
        }
        let read = || -> Ran<Vec<_>> {
            let n = host::length(&env, input.raw())?;
            let mut items = Vec::with_capacity(n as usize);
            for i in 0..n {
                let item = host::element(&env, input.raw(), i)?;
                // SAFETY: `item` is a value of this env, just read.
                items.push(body(&env, unsafe { Unknown::from_raw_unchecked(env.raw(), item) })?);
            }
            Ok(items)
        };
        let items = read().map_err(|c| c.rethrow(&env))?;
        Ok(self.task(Op::IngestItems(items)))
    }

    /// Whether the client is online in the shared state.
    #[napi(js_name = "isOnline", ts_return_type = "Promise<boolean>")]
    pub fn is_online(&self, client_id: Unknown<'_>) -> Result<AsyncTask<StoreTask>> {
        Ok(self.task(or_fail(option_value(client_id)?.required_text("clientId"), Op::IsOnline)))
    }

    /// Everything known about one client, or `null`.
    #[napi(ts_return_type = "Promise<ClientStatus | null>")]
    pub fn client(&self, client_id: Unknown<'_>) -> Result<AsyncTask<StoreTask>> {
        Ok(self.task(or_fail(option_value(client_id)?.required_text("clientId"), Op::Client)))
    }

    /// Online client ids, sorted; `{group, after, limit}` as the engine's.
    #[napi(js_name = "onlineClients", ts_return_type = "Promise<string[]>")]
    pub fn online_clients(&self, env: Env, query: Option<Unknown<'_>>) -> Result<AsyncTask<StoreTask>> {
        Ok(self.task(or_fail(OnlineQuery::from_options(options_arg(&env, query)?), Op::Online)))
    }

    /// Number of online clients, in all or in one group.
    #[napi(js_name = "countOnline", ts_return_type = "Promise<number>")]
    pub fn count_online(&self, group: Option<Unknown<'_>>) -> Result<AsyncTask<StoreTask>> {
        let group = match group {
            Some(g) => option_value(g)?.text("group"),
            None => Ok(None),
        };
        Ok(self.task(or_fail(group, Op::Count)))
    }

    /// Every group seen, sorted: `[{groupId, online, known}]`.
    #[napi(ts_return_type = "Promise<GroupCount[]>")]
    pub fn groups(&self) -> AsyncTask<StoreTask> {
        self.task(Op::Groups)
    }

    /// The shared state's figures (`events` … `wentOffline` count this handle's own calls).
    #[napi(ts_return_type = "Promise<Stats>")]
    pub fn stats(&self) -> AsyncTask<StoreTask> {
        self.task(Op::Stats)
    }

    /// The whole store in the engine's snapshot format.
    #[napi(ts_return_type = "Promise<Uint8Array>")]
    pub fn snapshot(&self) -> AsyncTask<StoreTask> {
        self.task(Op::Snapshot)
    }

    /// Merges a snapshot (same configuration) into the store.
    #[napi(js_name = "loadSnapshot", ts_return_type = "Promise<void>")]
    pub fn load_snapshot(&self, env: Env, bytes: Unknown<'_>) -> Result<AsyncTask<StoreTask>> {
        let is_string = bytes.get_type()? == ValueType::String;
        let op = match raw_bytes(&env, bytes)?.filter(|_| !is_string) {
            Some(b) => Op::LoadSnapshot(b),
            None => Op::Fail(CoreError::InvalidSnapshot { reason: "expected a Uint8Array".into() }),
        };
        Ok(self.task(op))
    }

    /// `advance(nowMs)` (SPEC §9): the offlines it confirmed, once committed and fed (each to
    /// exactly one handle of the store).
    #[napi(ts_return_type = "Promise<Transition[]>")]
    pub fn advance(&self, now_ms: Unknown<'_>) -> Result<AsyncTask<StoreTask>> {
        Ok(self.task(or_fail(option_value(now_ms)?.required_integer("now"), Op::Advance)))
    }

    /// `observe(clientId, online, timeMs)` (SPEC §9), committed: the transition it caused or
    /// `null`. Bad arguments reject like a bad notification (counted, nothing changes).
    #[napi(ts_return_type = "Promise<Transition | null>")]
    pub fn observe(
        &self,
        client_id: Unknown<'_>,
        online: Unknown<'_>,
        time_ms: Unknown<'_>,
    ) -> Result<AsyncTask<StoreTask>> {
        let args = mqtt_status::ObserveArgs::from_values(
            option_value(client_id)?,
            option_value(online)?,
            option_value(time_ms)?,
        );
        Ok(self.task(match args {
            Ok(a) => Op::Observe(a.client_id, a.online, a.time_ms),
            Err(e) => Op::RejectUnread(e),
        }))
    }

    /// Online clients with no sign of life for `olderThanMs` before `nowMs`, oldest first, at
    /// most `limit`: `[{clientId, lastSeen}]`, from the store's index.
    #[napi(js_name = "staleOnline", ts_return_type = "Promise<StaleClient[]>")]
    pub fn stale_online(
        &self,
        older_than_ms: Unknown<'_>,
        now_ms: Unknown<'_>,
        limit: Unknown<'_>,
    ) -> Result<AsyncTask<StoreTask>> {
        let arg = |v: Unknown<'_>, field| -> Result<std::result::Result<u64, CoreError>> {
            Ok(option_value(v)?.required_integer(field))
        };
        let op = match (arg(older_than_ms, "olderThanMs")?, arg(now_ms, "nowMs")?, arg(limit, "limit")?) {
            (Ok(older), Ok(now), Ok(limit)) => {
                Op::Stale(older, now, usize::try_from(limit).unwrap_or(usize::MAX))
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Op::Fail(e),
        };
        Ok(self.task(op))
    }

    /// Commits this handle made for ingest calls: fewer than the calls when calls overlapped
    /// (group commit: concurrent `ingest` / `ingestMany` calls share commits, each still getting
    /// its own result).
    #[napi(js_name = "groupCommits", ts_return_type = "Promise<number>")]
    pub fn group_commits(&self) -> AsyncTask<StoreTask> {
        self.task(Op::GroupCommits)
    }

    /// Closes the handle once the calls running on it have ended: a file store's lock and a Redis
    /// store's connections are released, and every later call rejects with `store_closed`.
    /// Closing again does nothing.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<StoreTask> {
        self.task(Op::Close)
    }

    /// A page of the transition feed: `{entries: [{cursor, transition}], next}`, the flips after
    /// the cursor `after` (absent: from the oldest kept), at most `limit` (default 1000).
    #[napi(ts_return_type = "Promise<FeedPage>")]
    pub fn transitions(
        &self,
        after: Option<Unknown<'_>>,
        limit: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<StoreTask>> {
        let value = |v: Option<Unknown<'_>>| v.map_or(Ok(OptionValue::Absent), option_value);
        let after = value(after)?.text("after");
        let limit = value(limit)?.integer("limit", MAX_TIME);
        let op = match (after, limit) {
            (Ok(after), Ok(limit)) => {
                Op::Transitions(after, limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)))
            }
            (Err(e), _) | (_, Err(e)) => Op::Fail(e),
        };
        Ok(self.task(op))
    }
}
