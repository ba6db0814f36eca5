//! The conformance vectors (`tests/vectors/*.json`) replayed against the stores — a file store
//! and Redis (standalone and cluster) — wherever their steps are store calls: ingest,
//! ingestHex, ingestMany, query, advance, observe, merge (`load_snapshot` of the nested
//! engine's snapshot) and snapshotRestore (the store closed and opened again). `snapshot` steps
//! (the engine's bytes) are skipped; vectors with `restore`, `record`, `loadRecord` steps, or a
//! `source` other than the default, are engine-only. Every grace-, observe- and stale- vector
//! must run here. A store handle's ingest counters start at 0 on open, so after a reopen a
//! `stats` answer is compared on the state figures only.
mod common;

use mqtt_status::{Config, Error, StatusEngine};
use mqtt_status_store::StatusStore;
use serde_json::{json, to_value, Value};

const SKIP_VECTOR: [&str; 3] = ["restore", "record", "loadRecord"];
const PER_HANDLE: [&str; 7] =
    ["events", "applied", "duplicates", "late", "rejected", "wentOnline", "wentOffline"];

fn bytes(v: &Value) -> Vec<u8> {
    v.as_str().map_or_else(|| serde_json::to_vec(v).unwrap(), |s| s.as_bytes().to_vec())
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("bad hex")).collect()
}

/// An engine built by the nested steps of a `merge` (engine calls only).
fn engine_from(m: &Value) -> StatusEngine {
    let config: Config = serde_json::from_value(m.get("config").cloned().unwrap_or(json!({}))).unwrap();
    let mut e = StatusEngine::new(config).unwrap();
    for step in m["steps"].as_array().map_or(&[][..], Vec::as_slice) {
        if let Some(body) = step.get("ingest") {
            let _ = e.ingest_json(&bytes(body), step.get("tag").and_then(Value::as_str));
        } else if let Some(Value::String(text)) = step.get("ingestMany") {
            e.ingest_many(text.as_bytes());
        } else if let Some(Value::Array(items)) = step.get("ingestMany") {
            e.ingest_items(items.iter().map(bytes));
        } else if let Some(now) = step.get("advance").and_then(Value::as_u64) {
            let _ = e.advance(now);
        } else if let Some(o) = step.get("observe") {
            let _ = e.observe(
                o["clientId"].as_str().unwrap(),
                o["online"].as_bool().unwrap(),
                o["time"].as_u64().unwrap(),
            );
        }
    }
    e
}

fn op(store: &StatusStore, step: &Value, at: &str) -> Result<Value, Error> {
    let (tag, args) = (step.get("tag").and_then(Value::as_str), &step["args"]);
    let arg = |k: &str| args.get(k).and_then(Value::as_str);
    let id = || arg("clientId").unwrap_or_else(|| panic!("{at}: args.clientId missing"));
    Ok(if let Some(body) = step.get("ingest") {
        to_value(store.ingest_json(&bytes(body), tag)?).unwrap()
    } else if let Some(hex) = step.get("ingestHex") {
        to_value(store.ingest_json(&unhex(hex.as_str().unwrap()), tag)?).unwrap()
    } else if let Some(many) = step.get("ingestMany") {
        let report = match many {
            Value::Array(items) => {
                let items: Vec<Vec<u8>> = items.iter().map(bytes).collect();
                let refs: Vec<(&[u8], Option<&str>)> = items.iter().map(|b| (b.as_slice(), None)).collect();
                store.ingest_items(&refs)?
            }
            Value::String(text) => store.ingest_many(text.as_bytes())?,
            _ => panic!("{at}: ingestMany must be a string or an array"),
        };
        let mut v = to_value(report).unwrap();
        for e in v["errors"].as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("message");
        }
        v
    } else if let Some(q) = step.get("query").and_then(Value::as_str) {
        match q {
            "isOnline" => json!(store.is_online(id())?),
            "client" => to_value(store.client(id())?).unwrap(),
            "onlineClients" => {
                let limit = args.get("limit").and_then(Value::as_u64).map(|l| l as usize);
                json!(store.online_clients(arg("group"), arg("after"), limit)?)
            }
            "countOnline" => json!(store.count_online(arg("group"))?),
            "groups" => to_value(store.groups()?).unwrap(),
            "stats" => to_value(store.stats()?).unwrap(),
            "staleOnline" => {
                let n = |k: &str| args[k].as_u64().unwrap_or_else(|| panic!("{at}: args.{k}"));
                to_value(store.stale_online(n("olderThanMs"), n("nowMs"), n("limit") as usize)?).unwrap()
            }
            other => panic!("{at}: unknown query {other:?}"),
        }
    } else if let Some(now) = step.get("advance") {
        to_value(store.advance(now.as_u64().unwrap())?).unwrap()
    } else if let Some(o) = step.get("observe") {
        let id = o["clientId"].as_str().unwrap();
        to_value(store.observe(id, o["online"].as_bool().unwrap(), o["time"].as_u64().unwrap())?).unwrap()
    } else if let Some(m) = step.get("merge") {
        store.load_snapshot(&engine_from(m).snapshot())?;
        Value::Null
    } else {
        panic!("{at}: unsupported step {step}")
    })
}

/// Replays one vector on stores opened by `open` (called again for each reopen).
fn replay(name: &str, v: &Value, open: &dyn Fn() -> StatusStore, loose: &[&str]) {
    let mut store = open();
    let mut reopened = false;
    for (i, step) in v["steps"].as_array().unwrap().iter().enumerate() {
        let at = format!("{name}, step {i}");
        if step.get("snapshot").is_some() {
            continue;
        }
        if step.get("snapshotRestore").is_some() {
            drop(store);
            store = open();
            reopened = true;
            continue;
        }
        match (op(&store, step, &at), step.get("expectError")) {
            (Ok(mut got), None) => {
                if let Some(want) = step.get("expect") {
                    let mut want = want.clone();
                    if step.get("query").and_then(Value::as_str) == Some("stats") {
                        let per_handle = if reopened { &PER_HANDLE[..] } else { &[] };
                        for k in per_handle.iter().chain(loose) {
                            got.as_object_mut().unwrap().remove(*k);
                            want.as_object_mut().unwrap().remove(*k);
                        }
                    }
                    assert_eq!(got, want, "{at}: answer differs (store left)");
                }
            }
            (Ok(got), Some(w)) => panic!("{at}: expected error {w}, got {got}"),
            (Err(e), None) => panic!("{at}: unexpected error {}: {e}", e.code()),
            (Err(e), Some(w)) => {
                let want = json!({"code": w["code"], "field": w.get("field").unwrap_or(&Value::Null)});
                assert_eq!(
                    json!({"code": e.code().as_str(), "field": e.field()}),
                    want,
                    "{at}: wrong error ({e})"
                );
            }
        }
    }
}

/// The vectors a store runs, with their configurations.
fn vectors() -> Vec<(String, Value, Config)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let config: Config = serde_json::from_value(v.get("config").cloned().unwrap_or(json!({}))).unwrap();
        let steps = v["steps"].as_array().unwrap();
        let engine_only = steps.iter().any(|s| SKIP_VECTOR.iter().any(|k| s.get(*k).is_some()))
            || !config.source.is_default()
            || config.validate().is_err();
        let spec9 = ["grace-", "observe-", "stale-"].iter().any(|p| name.starts_with(p));
        assert!(!(spec9 && engine_only), "{name}: a grace/observe/stale vector must run on the stores");
        if !engine_only {
            out.push((name, v, config));
        }
    }
    assert!(out.iter().filter(|(n, _, _)| n.starts_with("grace-")).count() >= 10);
    out
}

#[test]
fn vectors_on_a_file_store() {
    for (name, v, config) in vectors() {
        let dir = std::env::temp_dir().join(common::fresh_prefix(&name));
        let url = format!("file:{}", dir.display());
        let open = || StatusStore::open(&url, config).unwrap_or_else(|e| panic!("{name}: open: {e}"));
        replay(&name, &v, &open, &[]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The staleness vectors (and every other vector that asks `staleOnline`) on stores created
/// without the seen index (`stale_index=0`): the same answers, read from the records.
#[test]
fn stale_vectors_on_redis_without_the_seen_index() {
    let mut ran = 0;
    for (server, base) in common::servers() {
        for (name, v, config) in vectors() {
            if !v.to_string().contains("staleOnline") {
                continue;
            }
            ran += 1;
            let prefix = common::fresh_prefix(&name);
            let url = common::url(&base, &prefix, "&stale_index=0");
            let open = || StatusStore::open(&url, config).unwrap_or_else(|e| panic!("{name}: open: {e}"));
            replay(&format!("{server} stale_index=0: {name}"), &v, &open, &[]);
        }
    }
    assert!(ran >= 2, "no vector asks staleOnline");
}

#[test]
fn vectors_on_redis() {
    let mut failed = Vec::new();
    for (server, base) in common::servers() {
        for (name, v, config) in vectors() {
            let prefix = common::fresh_prefix(&name);
            let at = format!("{server}: {name}");
            // Redis keeps `maxTime` as the latest time ever seen (a max in the counts); the
            // engine takes it over the state it kept, which a redelivery that replaced a
            // channel's later time can lower (docs/store.md, "Queries").
            let loose: &[&str] =
                if name == "dup-conflicting-redelivery-keeps-smallest" { &["maxTime"] } else { &[] };
            let r =
                std::panic::catch_unwind(|| replay(&at, &v, &|| common::open(&base, &prefix, config), loose));
            if r.is_err() {
                failed.push(at);
            }
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
}
