//! The answers a report shows, gathered in one place from an in-memory engine or from a status
//! store through one trait ([`Queries`]), so that both renderers print the same thing whichever
//! answered, and so that a store failure surfaces here, before anything is printed, instead of
//! half-way through a table.

use mqtt_status::{ClientStatus, Config, Error, GroupCount, Stats, StatusEngine};
use mqtt_status_store::StatusStore;

/// The engine's queries, as both an engine and a store answer them (a store may fail).
pub trait Queries {
    /// The configuration the answers are judged by.
    fn config(&self) -> Config;
    /// See [`StatusEngine::stats`].
    fn stats(&self) -> Result<Stats, Error>;
    /// See [`StatusEngine::count_online`].
    fn count_online(&self, group: Option<&str>) -> Result<u64, Error>;
    /// See [`StatusEngine::online_clients`].
    fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error>;
    /// See [`StatusEngine::groups`].
    fn groups(&self) -> Result<Vec<GroupCount>, Error>;
    /// See [`StatusEngine::client`].
    fn client(&self, id: &str) -> Result<Option<ClientStatus>, Error>;
}

impl Queries for StatusEngine {
    fn config(&self) -> Config {
        *StatusEngine::config(self)
    }
    fn stats(&self) -> Result<Stats, Error> {
        Ok(StatusEngine::stats(self))
    }
    fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        Ok(StatusEngine::count_online(self, group))
    }
    fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        Ok(StatusEngine::online_clients(self, group, after, limit))
    }
    fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        Ok(StatusEngine::groups(self))
    }
    fn client(&self, id: &str) -> Result<Option<ClientStatus>, Error> {
        Ok(StatusEngine::client(self, id))
    }
}

impl Queries for StatusStore {
    fn config(&self) -> Config {
        *StatusStore::config(self)
    }
    fn stats(&self) -> Result<Stats, Error> {
        StatusStore::stats(self)
    }
    fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        StatusStore::count_online(self, group)
    }
    fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        StatusStore::online_clients(self, group, after, limit)
    }
    fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        StatusStore::groups(self)
    }
    fn client(&self, id: &str) -> Result<Option<ClientStatus>, Error> {
        StatusStore::client(self, id)
    }
}

/// What to ask.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    /// Restrict the online listing and count to this group.
    pub group: Option<&'a str>,
    /// List online clients after this id (exclusive cursor).
    pub after: Option<&'a str>,
    /// List at most this many online clients (`None`: all).
    pub limit: Option<usize>,
    /// Clients whose whole status is wanted (`--client`).
    pub clients: &'a [String],
    /// Also fetch the status of every listed online client (the table shows their channels).
    pub details: bool,
}

/// Everything a report shows about the state, fetched before anything is printed.
#[derive(Debug, Clone)]
pub struct Answers {
    /// The store's URL when a store answered (`None`: the in-memory engine).
    pub store: Option<String>,
    /// The configuration.
    pub config: Config,
    /// The statistics (a store's per-instance counters are its handle's own).
    pub stats: Stats,
    /// Every group, sorted.
    pub groups: Vec<GroupCount>,
    /// The `--group` filter.
    pub group: Option<String>,
    /// The `--after` cursor of the online listing.
    pub after: Option<String>,
    /// Online clients (in the group): the full count.
    pub count: u64,
    /// The listed online ids, sorted.
    pub online: Vec<String>,
    /// Whether more online clients follow the listed ones.
    pub truncated: bool,
    /// The status of each listed online client, when asked for ([`Query::details`]).
    pub details: Vec<Option<ClientStatus>>,
    /// Each `--client` id with its status, or `None` if never seen.
    pub clients: Vec<(String, Option<ClientStatus>)>,
}

impl Answers {
    /// Asks `q` everything `query` needs.
    pub fn gather(q: &impl Queries, query: &Query<'_>, store: Option<&str>) -> Result<Self, Error> {
        let count = q.count_online(query.group)?;
        // One more than the page tells whether more follow, with or without a cursor.
        let mut online = q.online_clients(query.group, query.after, query.limit.map(|n| n + 1))?;
        let truncated = query.limit.is_some_and(|n| online.len() > n);
        if let Some(n) = query.limit {
            online.truncate(n);
        }
        let details = if query.details {
            online.iter().map(|id| q.client(id)).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let clients =
            query.clients.iter().map(|id| Ok((id.clone(), q.client(id)?))).collect::<Result<_, Error>>()?;
        Ok(Answers {
            store: store.map(String::from),
            config: q.config(),
            stats: q.stats()?,
            groups: q.groups()?,
            group: query.group.map(String::from),
            after: query.after.map(String::from),
            count,
            online,
            truncated,
            details,
            clients,
        })
    }
}
