//! Writes real file store logs as seeds of the `file_log` fuzz target (docs/FUZZING.md): opens
//! a file store in a temporary directory, logs every kind of entry (`ingest_json` with and
//! without a tag, `ingest_many`, `ingest_items`, `load_snapshot`), and copies the log into the
//! directory given, prefixed with the target's mode byte `0` (a whole image); one seed after each
//! call, so the corpus holds logs of 1 to 5 frames.
//!
//! ```sh
//! cargo run -p mqtt-status-store --example fuzz_log_seeds -- fuzz/corpus/file_log
//! ```

use std::path::Path;

use mqtt_status::{Config, StatusEngine};
use mqtt_status_store::StatusStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: fuzz_log_seeds OUT_DIR")?;
    std::fs::create_dir_all(&out)?;
    let dir = std::env::temp_dir().join(format!("mqtt-status-fuzz-log-seeds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let written = write_seeds(&dir, Path::new(&out));
    let _ = std::fs::remove_dir_all(&dir);
    println!("file_log: {} seeds from a real file store in {out}", written?);
    Ok(())
}

fn write_seeds(dir: &Path, out: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let store = StatusStore::open(&format!("file:{}", dir.display()), Config::default())?;
    let log = dir.join(format!("log-{:016x}", 0));
    let mut n = 0;
    let seed = |n: &mut usize| -> std::io::Result<()> {
        let mut bytes = vec![0u8];
        bytes.extend(std::fs::read(&log)?);
        *n += 1;
        std::fs::write(out.join(format!("real-log-{n}")), bytes)
    };
    let one = br#"{"clientId":"GID_a@@@d1","channelId":"2b9b1281046046faafe5e0b458e40001","eventType":"connect","time":1000,"clientIp":"10.0.0.1:1883"}"#;
    store.ingest_json(one, None)?;
    seed(&mut n)?;
    store.ingest_json(br#"{"clientId":"solo","channelId":"x","time":"7"}"#, Some("disconnect"))?;
    seed(&mut n)?;
    let many = concat!(
        r#"{"clientId":"GID_a@@@d2","channelId":"c1","eventType":"connect","time":1500}"#,
        "\n\nnot json\n",
        r#"{"tag":"tcpclean","body":{"clientId":"GID_a@@@d1","channelId":"c0","time":900}}"#,
        "\n"
    );
    store.ingest_many(many.as_bytes())?;
    seed(&mut n)?;
    let items: [(&[u8], Option<&str>); 2] = [
        (br#"{"clientId":"GID_b@@@d1","channelId":"c2","time":20}"#, Some("connect")),
        (br#"{"clientId":"GID_b@@@d1","channelId":"c2","eventType":"disconnect","time":30}"#, None),
    ];
    store.ingest_items(&items)?;
    seed(&mut n)?;
    let mut other = StatusEngine::default();
    other
        .ingest_json(br#"{"clientId":"GID_c@@@m","channelId":"m1","eventType":"connect","time":5}"#, None)?;
    store.load_snapshot(&other.snapshot())?;
    seed(&mut n)?;
    Ok(n)
}
