//! A TCP delay line on 127.0.0.1 for benchmarks: forwards every connection made to
//! `127.0.0.1:LISTEN` to `127.0.0.1:TARGET`, holding each chunk of bytes `DELAY_US` microseconds
//! in each direction (a round trip of twice that), without limiting throughput: chunks keep being
//! read while earlier ones wait. It stands in for the distance to a Redis in the same cloud
//! zone, which a benchmark on one machine does not have (the tests use loopback only).
//!
//! ```text
//! cargo run --release -p mqtt-status-store --example delay_proxy -- 6391 6390 125 &
//! cargo run --release -p mqtt-status-store --example vendor_demo -- /tmp/20k.jsonl redis://127.0.0.1:6391
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Copies `from` to `to`, each chunk written `delay` after it was read.
fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.join();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, target, delay_us] = &args[..] else {
        panic!("usage: delay_proxy LISTEN_PORT TARGET_PORT DELAY_US")
    };
    let delay = Duration::from_micros(delay_us.parse().expect("DELAY_US"));
    let listener =
        TcpListener::bind(("127.0.0.1", listen.parse::<u16>().expect("LISTEN_PORT"))).expect("bind");
    let target: u16 = target.parse().expect("TARGET_PORT");
    for client in listener.incoming().flatten() {
        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { continue };
        for s in [&client, &server] {
            let _ = s.set_nodelay(true);
        }
        let (c2, s2) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
        std::thread::spawn(move || pipe(client, server, delay));
        std::thread::spawn(move || pipe(s2, c2, delay));
    }
}
