//! One connection to a standalone Redis or a Redis Cluster, behind a mutex (a store handle is
//! `Sync`), with timeouts, and every failure turned into `store_unavailable`.

use std::sync::Mutex;
use std::time::Duration;

use mqtt_status::Error;
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Cmd, ConnectionLike, IntoConnectionInfo, Value};

use super::cluster::{broken, streamed, Parallel};

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

/// A lazily (re)connected link; a broken connection is dropped and made again on next use.
pub(crate) struct Conn {
    link: Mutex<Link>,
    target: Target,
}

/// What a streamed call gives back: each produced command's reply (`None` where none was
/// produced), or the first failure — of the producer or of the transport — once every command
/// already sent has been answered or the link dropped.
pub(crate) type Replies = Result<Vec<Option<Value>>, Error>;

pub(crate) fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::StoreUnavailable { reason: format!("{what}: {e}") }
}

impl Conn {
    pub(crate) fn open(target: Target) -> Result<Self, Error> {
        let link = if target.cluster {
            let client = ClusterClient::builder(target.nodes.clone())
                .tcp_settings(nodelay())
                .connection_timeout(target.connect_timeout)
                .response_timeout(target.response_timeout)
                .retries(2)
                .build()
                .map_err(|e| unavailable("bad cluster URL", e))?;
            Link::Cluster(client, Box::new(None), Box::default())
        } else {
            let info = target.nodes[0]
                .as_str()
                .into_connection_info()
                .map_err(|e| unavailable("bad Redis URL", e))?
                .set_tcp_settings(nodelay());
            let client = redis::Client::open(info).map_err(|e| unavailable("bad Redis URL", e))?;
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
                let c = single(client, conn, &self.target)?;
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
                let c = cluster(client, conn, &self.target)?;
                // A cluster pipeline reports server errors as one error naming them (callers
                // treat any as store_unavailable), and refuses keyless commands such as PING:
                // one command goes alone; more go to their masters at once.
                if let [one] = cmds {
                    let r = c.req_command(one);
                    if r.as_ref().is_err_and(broken) {
                        reset(conn, par);
                    }
                    r.map(|v| vec![v])
                } else {
                    let (r, gone) = streamed(client, c, par, cmds.len(), |k| Ok(Some(cmds[k].clone())));
                    if gone {
                        reset(conn, par);
                    }
                    return r.map(|v| v.into_iter().map(|x| x.unwrap_or(Value::Nil)).collect());
                }
            }
        };
        r.map_err(|e| unavailable("Redis request failed", e))
    }

    /// Sends the commands `produce(0..n)` gives as each is produced, so that the servers work on
    /// the first while the next is being computed, and returns the replies. A command that
    /// fails on the server is answered with its error value, as in [`Conn::run`]; a failure of
    /// `produce` stops producing, and is returned once the commands sent are answered (each is
    /// atomic on its own: what was sent may have been applied).
    pub(crate) fn run_streamed<F>(&self, n: usize, produce: F) -> Replies
    where
        F: FnMut(usize) -> Result<Option<Cmd>, Error>,
    {
        let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *link {
            Link::Single(client, conn) => {
                let c = single(client, conn, &self.target)?;
                let r = stream_single(c, n, produce);
                if r.as_ref().is_err_and(|e| matches!(e, Error::StoreUnavailable { .. })) || !c.is_open() {
                    *conn = None;
                }
                r
            }
            Link::Cluster(client, conn, par) => {
                let c = cluster(client, conn, &self.target)?;
                let (r, gone) = streamed(client, c, par, n, produce);
                if gone {
                    reset(conn, par);
                }
                r
            }
        }
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

/// Drops a broken cluster link: every connection and the slot map are made again on next use.
fn reset(conn: &mut Option<ClusterConnection>, par: &mut Parallel) {
    *conn = None;
    par.extra.clear();
    par.slots.clear();
}

/// `TCP_NODELAY`: a streamed call writes one command after another, and with Nagle's algorithm
/// the tail of each would wait for the server's (delayed) acknowledgement of the one before.
fn nodelay() -> redis::io::tcp::TcpSettings {
    redis::io::tcp::TcpSettings::default().set_nodelay(true)
}

/// The standalone connection, made first if there is none.
fn single<'c>(
    client: &redis::Client,
    conn: &'c mut Option<redis::Connection>,
    target: &Target,
) -> Result<&'c mut redis::Connection, Error> {
    if conn.is_none() {
        let c = client
            .get_connection_with_timeout(target.connect_timeout)
            .map_err(|e| unavailable(&format!("cannot connect to {}", target.nodes[0]), e))?;
        c.set_read_timeout(Some(target.response_timeout)).map_err(|e| unavailable("socket", e))?;
        c.set_write_timeout(Some(target.response_timeout)).map_err(|e| unavailable("socket", e))?;
        *conn = Some(c);
    }
    Ok(conn.as_mut().expect("just connected"))
}

/// The cluster connection, made first if there is none.
fn cluster<'c>(
    client: &ClusterClient,
    conn: &'c mut Option<ClusterConnection>,
    target: &Target,
) -> Result<&'c mut ClusterConnection, Error> {
    if conn.is_none() {
        let c = client
            .get_connection()
            .map_err(|e| unavailable(&format!("cannot connect to cluster {:?}", target.nodes), e))?;
        *conn = Some(c);
    }
    Ok(conn.as_mut().expect("just connected"))
}

/// Streams on one standalone connection: each command written as soon as it is produced
/// (Redis runs it while the next is computed; its replies are small and wait in its output
/// buffer), then every reply read in order.
fn stream_single<F>(c: &mut redis::Connection, n: usize, mut produce: F) -> Replies
where
    F: FnMut(usize) -> Result<Option<Cmd>, Error>,
{
    let mut sent = Vec::new();
    let mut failure = None;
    let mut packed = Vec::new();
    for k in 0..n {
        match produce(k) {
            Ok(Some(cmd)) => {
                packed.clear();
                cmd.write_packed_command(&mut packed);
                if let Err(e) = c.send_packed_command(&packed) {
                    // Half a command may be on the wire: the connection is dropped by the caller.
                    return Err(unavailable("Redis request failed", e));
                }
                sent.push(k);
            }
            Ok(None) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let mut out = vec![None; n];
    for k in sent {
        out[k] = Some(c.recv_response().map_err(|e| unavailable("Redis request failed", e))?);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
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
