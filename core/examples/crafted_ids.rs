//! Connect lines for client ids crafted to share one client-index slot under the fixed key
//! (`IndexKey::FIXED`): what a device fleet's attacker who knows the key would send. Under the
//! fixed key every lookup among them walks past the others (quadratic); the CLI, the bindings
//! and the store key their engines at random, so for them these are ordinary ids.
//!
//! ```text
//! cargo run --release -p mqtt-status --example crafted_ids -- 30000 16 > /tmp/crafted.jsonl
//! cargo run --release -p mqtt-status --example crafted_ids -- 30000 0 > /tmp/plain.jsonl   # ordinary ids
//! ```
//! Arguments: how many ids, and how many low bits of the slot they share (16: one slot in any
//! table of up to 65 536 slots, and 2^16 tries per id).

use std::io::Write;

use mqtt_status::IndexKey;

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (n, bits) = (args.first().copied().unwrap_or(30_000), args.get(1).copied().unwrap_or(16));
    let mask = (1u64 << bits.min(32)) - 1;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let (mut found, mut i) = (0, 0u64);
    let mut id = String::new();
    while found < n {
        id.clear();
        use std::fmt::Write as _;
        let _ = write!(id, "GID_crafted@@@d{i:012x}");
        i += 1;
        if (IndexKey::FIXED.hash(id.as_bytes()) >> 32) & mask != 0 {
            continue;
        }
        found += 1;
        let t = 1_700_000_000_000 + found;
        writeln!(out, r#"{{"clientId":"{id}","channelId":"c{i:x}","eventType":"connect","time":{t}}}"#)
            .unwrap();
    }
}
