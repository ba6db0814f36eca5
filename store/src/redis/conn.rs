//! One connection to a standalone Redis or a Redis Cluster, behind a mutex (a store handle is
//! `Sync`), with timeouts, and every failure turned into `store_unavailable`.

use std::sync::Mutex;
use std::time::Duration;

use mqtt_status::Error;
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Cmd, ConnectionLike, Value};

/// Where and how to connect, from the store URL.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `redis://…` URLs: one for a standalone server, every seed node for a cluster.
    pub(crate) nodes: Vec<String>,
    pub(crate) cluster: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
}

enum Link {
    Single(redis::Client, Option<redis::Connection>),
    Cluster(ClusterClient, Box<Option<ClusterConnection>>, Box<Parallel>),
}

/// What sends a cluster pipeline to its masters at once: the slot ranges of each master (from
/// `CLUSTER SLOTS`; a stale map costs parallelism only, since every connection follows `MOVED`
/// itself) and one extra connection per further master.
#[derive(Default)]
struct Parallel {
    slots: Vec<(u16, u16, String)>,
    extra: Vec<ClusterConnection>,
}

/// A lazily (re)connected link; a broken connection is dropped and made again on next use.
pub(crate) struct Conn {
    link: Mutex<Link>,
    target: Target,
}

pub(crate) fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::StoreUnavailable { reason: format!("{what}: {e}") }
}

impl Conn {
    pub(crate) fn open(target: Target) -> Result<Self, Error> {
        let link = if target.cluster {
            let client = ClusterClient::builder(target.nodes.clone())
                .connection_timeout(target.connect_timeout)
                .response_timeout(target.response_timeout)
                .retries(2)
                .build()
                .map_err(|e| unavailable("bad cluster URL", e))?;
            Link::Cluster(client, Box::new(None), Box::default())
        } else {
            let client =
                redis::Client::open(target.nodes[0].as_str()).map_err(|e| unavailable("bad Redis URL", e))?;
            Link::Single(client, None)
        };
        let conn = Conn { link: Mutex::new(link), target };
        conn.run(&[redis::cmd("PING")])?;
        Ok(conn)
    }

    /// Sends `cmds` as one pipeline (one round trip per server involved) and returns each
    /// command's reply; a server error reply is returned as a value, a transport failure as
    /// `store_unavailable` (and the connection is made again next time).
    pub(crate) fn run(&self, cmds: &[Cmd]) -> Result<Vec<Value>, Error> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        let r = match &mut *link {
            Link::Single(client, conn) => {
                if conn.is_none() {
                    let c = client.get_connection_with_timeout(self.target.connect_timeout).map_err(|e| {
                        unavailable(&format!("cannot connect to {}", self.target.nodes[0]), e)
                    })?;
                    c.set_read_timeout(Some(self.target.response_timeout))
                        .map_err(|e| unavailable("socket", e))?;
                    c.set_write_timeout(Some(self.target.response_timeout))
                        .map_err(|e| unavailable("socket", e))?;
                    *conn = Some(c);
                }
                let c = conn.as_mut().expect("just connected");
                // Packed in place: a pipeline object would copy every command (a batch's records).
                let mut packed = Vec::new();
                for cmd in cmds {
                    cmd.write_packed_command(&mut packed);
                }
                let r = c.req_packed_commands(&packed, 0, cmds.len());
                if r.is_err() || !c.is_open() {
                    *conn = None;
                }
                r
            }
            Link::Cluster(client, conn, par) => {
                if conn.is_none() {
                    let c = client.get_connection().map_err(|e| {
                        unavailable(&format!("cannot connect to cluster {:?}", self.target.nodes), e)
                    })?;
                    **conn = Some(c);
                }
                let c = conn.as_mut().as_mut().expect("just connected");
                // A cluster pipeline reports server errors as one error naming them (callers
                // treat any as store_unavailable), and refuses keyless commands such as PING.
                let r = if let [one] = cmds {
                    c.req_command(one).map(|v| vec![v])
                } else {
                    parallel(client, c, par, cmds)
                };
                if r.as_ref().is_err_and(|e| e.is_io_error() || e.is_connection_dropped() || e.is_timeout()) {
                    **conn = None;
                    par.extra.clear();
                    par.slots.clear();
                }
                r
            }
        };
        r.map_err(|e| unavailable("Redis request failed", e))
    }

    /// Whether this is a Redis Cluster (whose pipelines fail whole on any error reply).
    pub(crate) fn cluster(&self) -> bool {
        self.target.cluster
    }

    /// One command's reply; a server error reply becomes `store_unavailable`.
    pub(crate) fn one(&self, cmd: Cmd) -> Result<Value, Error> {
        let v = self.run(std::slice::from_ref(&cmd))?.pop().unwrap_or(Value::Nil);
        check(v)
    }
}

/// One cluster pipeline.
fn pipeline(c: &mut ClusterConnection, cmds: &[&Cmd]) -> redis::RedisResult<Vec<Value>> {
    let mut pipe = redis::cluster::cluster_pipe();
    for cmd in cmds {
        pipe.add_command((*cmd).clone());
    }
    pipe.query::<Vec<Value>>(c)
}

/// CRC16 (XMODEM) of a key's hash tag modulo 16 384: Redis Cluster's slot of the key.
fn slot(key: &[u8]) -> u16 {
    let tag = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|i| {
            key[i + 1..].iter().position(|&b| b == b'}').filter(|&n| n > 0).map(|n| &key[i + 1..i + 1 + n])
        })
        .unwrap_or(key);
    let mut crc: u16 = 0;
    for &b in tag {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc % 16_384
}

/// The master serving `cmd`'s key (the store's keys are the only arguments starting with `{`).
fn master_of<'a>(slots: &'a [(u16, u16, String)], cmd: &Cmd) -> &'a str {
    let key = cmd.args_iter().find_map(|a| match a {
        redis::Arg::Simple(b) if b.first() == Some(&b'{') => Some(b),
        _ => None,
    });
    key.map(slot)
        .and_then(|s| slots.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&s)))
        .map_or("", |(_, _, node)| node.as_str())
}

/// Sends a cluster pipeline to each master at once (one thread and connection per master after
/// the first) and returns the replies in order. The `redis` crate's own cluster pipeline visits
/// the masters one after another.
fn parallel(
    client: &ClusterClient,
    c: &mut ClusterConnection,
    par: &mut Parallel,
    cmds: &[Cmd],
) -> redis::RedisResult<Vec<Value>> {
    if par.slots.is_empty() {
        let map = c.req_command(redis::cmd("CLUSTER").arg("SLOTS"))?;
        for range in items(&map) {
            let r = items(range);
            let node = r.get(2).map(items).unwrap_or_default();
            if let (Some(lo), Some(hi), Some(host), Some(port)) =
                (r.first(), r.get(1), node.first(), node.get(1))
            {
                let host = bytes(host).map(String::from_utf8_lossy).unwrap_or_default();
                par.slots.push((int(lo) as u16, int(hi) as u16, format!("{host}:{}", int(port))));
            }
        }
    }
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, cmd) in cmds.iter().enumerate() {
        let m = master_of(&par.slots, cmd);
        match groups.iter_mut().find(|(g, _)| *g == m) {
            Some((_, v)) => v.push(i),
            None => groups.push((m, vec![i])),
        }
    }
    if groups.len() == 1 {
        return pipeline(c, &cmds.iter().collect::<Vec<_>>());
    }
    while par.extra.len() < groups.len() - 1 {
        par.extra.push(client.get_connection()?);
    }
    let mut conns: Vec<&mut ClusterConnection> = vec![c];
    conns.extend(par.extra.iter_mut());
    let results: Vec<redis::RedisResult<Vec<Value>>> = std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .zip(conns)
            .map(|((_, idx), conn)| {
                let group: Vec<&Cmd> = idx.iter().map(|&i| &cmds[i]).collect();
                s.spawn(move || pipeline(conn, &group))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(redis::RedisError::from((redis::ErrorKind::Io, "a pipeline thread panicked")))
                })
            })
            .collect()
    });
    let mut out = vec![Value::Nil; cmds.len()];
    for ((_, idx), r) in groups.iter().zip(results) {
        for (&i, v) in idx.iter().zip(r?) {
            out[i] = v;
        }
    }
    Ok(out)
}

/// A reply, or `store_unavailable` if the server answered with an error.
pub(crate) fn check(v: Value) -> Result<Value, Error> {
    match v {
        Value::ServerError(e) => Err(unavailable("Redis refused", format!("{e:?}"))),
        v => Ok(v),
    }
}

/// Bytes of a bulk string reply (`None` for nil).
pub(crate) fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// An integer reply (or a bulk string holding one); 0 for nil.
pub(crate) fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        v => bytes(v).and_then(|b| std::str::from_utf8(b).ok()?.parse().ok()).unwrap_or(0),
    }
}

/// The items of an array reply.
pub(crate) fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => &[],
    }
}
