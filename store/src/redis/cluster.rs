//! Sending to a Redis Cluster's masters at once: the `redis` crate's own cluster pipeline visits
//! them one after another. One connection (and, during a call, one thread) per master; the
//! masters are found from `CLUSTER SLOTS`, and a stale map costs parallelism only, since every
//! connection follows `MOVED` itself.

use std::sync::mpsc;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Cmd, ConnectionLike, Value};

use super::conn::{bytes, int, items, unavailable, Replies};

/// The slot ranges of each master and one extra connection per further master.
#[derive(Default)]
pub(super) struct Parallel {
    pub(super) slots: Vec<(u16, u16, String)>,
    pub(super) extra: Vec<ClusterConnection>,
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

/// Whether `e` means the connection is gone (then every connection is made again).
pub(super) fn broken(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout()
}

/// Each sender thread's result; a thread that panicked counts as a failed pipeline.
fn join_all<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, redis::RedisResult<T>>>,
) -> Vec<redis::RedisResult<T>> {
    handles
        .into_iter()
        .map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(redis::RedisError::from((redis::ErrorKind::Io, "a pipeline thread panicked")))
            })
        })
        .collect()
}

/// Reads the masters' slot ranges once (until the link is made again).
fn load_slots(c: &mut ClusterConnection, par: &mut Parallel) -> redis::RedisResult<()> {
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
    Ok(())
}

/// One master's sender during a streamed call: it sends whatever has been produced for its
/// master since its last round trip as one pipeline, until the producer is done.
fn worker(
    conn: &mut ClusterConnection,
    rx: mpsc::Receiver<(usize, Cmd)>,
) -> redis::RedisResult<Vec<(usize, Value)>> {
    let mut out = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut ks = Vec::new();
        let mut pipe = redis::cluster::cluster_pipe();
        for (k, cmd) in std::iter::once(first).chain(rx.try_iter()) {
            ks.push(k);
            pipe.add_command(cmd);
        }
        let values = pipe.query::<Vec<Value>>(conn)?;
        out.extend(ks.into_iter().zip(values));
    }
    Ok(out)
}

/// [`Conn::run_streamed`](super::conn::Conn::run_streamed) on a cluster: each command goes to
/// its master's sender thread as soon as it is produced. Also says whether the link broke (then
/// every connection is made again).
pub(super) fn streamed<F>(
    client: &ClusterClient,
    c: &mut ClusterConnection,
    par: &mut Parallel,
    n: usize,
    mut produce: F,
) -> (Replies, bool)
where
    F: FnMut(usize) -> Result<Option<Cmd>, mqtt_status::Error>,
{
    if let Err(e) = load_slots(c, par) {
        let b = broken(&e);
        return (Err(unavailable("Redis request failed", e)), b);
    }
    let mut masters: Vec<&str> = Vec::new();
    for (_, _, node) in &par.slots {
        if !masters.contains(&node.as_str()) {
            masters.push(node);
        }
    }
    while par.extra.len() + 1 < masters.len().max(1) {
        match client.get_connection() {
            Ok(x) => par.extra.push(x),
            Err(e) => {
                let b = broken(&e);
                return (Err(unavailable("Redis request failed", e)), b);
            }
        }
    }
    let mut failure = None;
    let results: Vec<redis::RedisResult<Vec<(usize, Value)>>> = std::thread::scope(|s| {
        let mut conns: Vec<Option<&mut ClusterConnection>> = vec![Some(c)];
        conns.extend(par.extra.iter_mut().map(Some));
        // A master's thread starts with its first command: a call touching one master costs no
        // thread for the others.
        let mut senders: Vec<Option<mpsc::Sender<(usize, Cmd)>>> = (0..conns.len()).map(|_| None).collect();
        let mut handles = Vec::new();
        for k in 0..n {
            match produce(k) {
                Ok(Some(cmd)) => {
                    // A command for a master the map does not know goes to the first connection,
                    // which follows MOVED.
                    let m = masters.iter().position(|x| *x == master_of(&par.slots, &cmd)).unwrap_or(0);
                    let tx = senders[m].get_or_insert_with(|| {
                        let (tx, rx) = mpsc::channel();
                        let conn = conns[m].take().expect("one thread per master");
                        handles.push(s.spawn(move || worker(conn, rx)));
                        tx
                    });
                    // A send fails only if that worker stopped on an error, which is reported.
                    let _ = tx.send((k, cmd));
                }
                Ok(None) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(senders);
        join_all(handles)
    });
    let mut out = vec![None; n];
    let mut broke = false;
    let mut error = None;
    for r in results {
        match r {
            Ok(values) => {
                for (k, v) in values {
                    out[k] = Some(v);
                }
            }
            Err(e) => {
                broke |= broken(&e);
                error.get_or_insert(unavailable("Redis request failed", e));
            }
        }
    }
    match failure.or(error) {
        Some(e) => (Err(e), broke),
        None => (Ok(out), broke),
    }
}
