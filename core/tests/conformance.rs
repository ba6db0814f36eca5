//! Replays every conformance vector in `tests/vectors/*.json` (format: `tests/vectors/README.md`).
use mqtt_status::{Config, Error, StatusEngine};
use serde_json::{json, to_value, Value};

fn config(v: Option<&Value>) -> Config {
    serde_json::from_value(v.cloned().unwrap_or_else(|| json!({}))).expect("bad config in vector")
}
fn body(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    }
}
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("bad hex")).collect()
}
/// The state without this instance's ingest counters: a fresh engine merged with this one.
fn state(e: &StatusEngine) -> Vec<u8> {
    let mut fresh = StatusEngine::new(*e.config()).unwrap();
    fresh.merge(e).unwrap();
    fresh.snapshot()
}

fn run(steps: &[Value], mut eng: StatusEngine, at: &str) -> StatusEngine {
    for (i, step) in steps.iter().enumerate() {
        let at = format!("{at}, step {i}");
        let (stats0, state0, snap0) = (eng.stats(), state(&eng), eng.snapshot());
        let (tag, args) = (step.get("tag").and_then(Value::as_str), &step["args"]);
        let arg = |k: &str| args.get(k).and_then(Value::as_str);
        let mut is_ingest = true;
        let result: Result<Value, Error> = if let Some(b) = step.get("ingest") {
            eng.ingest_json(&body(b), tag).map(|t| to_value(t).unwrap())
        } else if let Some(h) = step.get("ingestHex") {
            eng.ingest_json(&unhex(h.as_str().expect("ingestHex is a string")), tag)
                .map(|t| to_value(t).unwrap())
        } else {
            is_ingest = false;
            if let Some(m) = step.get("ingestMany") {
                let report = match m {
                    Value::String(s) => eng.ingest_many(s.as_bytes()),
                    Value::Array(items) => eng.ingest_items(items.iter().map(body)),
                    _ => panic!("{at}: ingestMany must be a string or an array"),
                };
                let mut v = to_value(report).unwrap();
                v["errors"].as_array_mut().unwrap().iter_mut().for_each(|e| {
                    e.as_object_mut().unwrap().remove("message");
                });
                Ok(v)
            } else if let Some(q) = step.get("query") {
                Ok(match q.as_str().unwrap() {
                    "isOnline" => json!(eng.is_online(arg("clientId").expect("clientId"))),
                    "client" => to_value(eng.client(arg("clientId").expect("clientId"))).unwrap(),
                    "onlineClients" => {
                        let limit = args.get("limit").and_then(Value::as_u64).map(|l| l as usize);
                        json!(eng.online_clients(arg("group"), arg("after"), limit))
                    }
                    "countOnline" => json!(eng.count_online(arg("group"))),
                    "groups" => to_value(eng.groups()).unwrap(),
                    "stats" => to_value(eng.stats()).unwrap(),
                    other => panic!("{at}: unknown query {other:?}"),
                })
            } else if step.get("snapshotRestore").is_some() {
                let restored =
                    StatusEngine::restore(&snap0).unwrap_or_else(|e| panic!("{at}: restore failed: {e}"));
                assert_eq!(hex(&restored.snapshot()), hex(&snap0), "{at}: restored snapshot differs");
                eng = restored;
                Ok(Value::Null)
            } else if let Some(want) = step.get("snapshot") {
                if std::env::var_os("VECTORS_PRINT_SNAPSHOTS").is_some() {
                    println!("{at}: snapshot {}", hex(&snap0)); // to write golden files
                } else {
                    assert_eq!(
                        hex(&snap0),
                        want.as_str().unwrap(),
                        "{at}: snapshot bytes differ (actual left)"
                    );
                }
                Ok(Value::Null)
            } else if let Some(h) = step.get("restore") {
                StatusEngine::restore(&unhex(h.as_str().unwrap())).map(|e| eng = e).map(|()| Value::Null)
            } else if let Some(m) = step.get("merge") {
                let nested = m["steps"].as_array().map_or(&[][..], Vec::as_slice);
                let other = run(
                    nested,
                    StatusEngine::new(config(m.get("config"))).unwrap(),
                    &format!("{at} (merge)"),
                );
                eng.merge(&other).map(|()| Value::Null)
            } else {
                panic!("{at}: no known operation in {step}")
            }
        };
        match (result, step.get("expectError")) {
            (Ok(v), None) => {
                if let Some(want) = step.get("expect") {
                    assert_eq!(&v, want, "{at}: answer differs (actual left)");
                }
            }
            (Ok(v), Some(w)) => panic!("{at}: expected error {w}, got {v}"),
            (Err(e), None) => panic!("{at}: unexpected error {:?} {:?}: {e}", e.code().as_str(), e.field()),
            (Err(e), Some(w)) => {
                let want =
                    json!({"code": w["code"], "field": w.get("field").cloned().unwrap_or(Value::Null)});
                assert_eq!(
                    json!({"code": e.code().as_str(), "field": e.field()}),
                    want,
                    "{at}: wrong error ({e})"
                );
                if is_ingest {
                    let mut s = stats0.clone();
                    (s.events, s.rejected) = (s.events + 1, s.rejected + 1);
                    assert_eq!(eng.stats(), s, "{at}: a rejected input changed stats beyond events/rejected");
                    assert_eq!(hex(&state(&eng)), hex(&state0), "{at}: a rejected input changed the state");
                } else {
                    assert_eq!(hex(&eng.snapshot()), hex(&snap0), "{at}: a failed step changed the snapshot");
                }
            }
        }
    }
    eng
}

#[test]
fn conformance_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let v: Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let eng =
            StatusEngine::new(config(v.get("config"))).unwrap_or_else(|e| panic!("{name}: bad config: {e}"));
        run(v["steps"].as_array().unwrap_or_else(|| panic!("{name}: no steps")), eng, &name);
    }
    assert!(files.len() >= 40, "only {} vectors in {}", files.len(), dir.display());
}
