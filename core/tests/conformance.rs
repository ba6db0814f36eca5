//! Replays every conformance vector in `tests/vectors/*.json` (format: `tests/vectors/README.md`).
//! With `VECTORS_PRINT_SNAPSHOTS=1`, `snapshot` steps print the actual bytes instead of comparing (to
//! write a golden file once its state has been checked by hand).
use mqtt_status::{Config, Error, StatusEngine};
use serde_json::{json, to_value, Value};

const OPS: [&str; 12] = [
    "ingest",
    "ingestHex",
    "ingestMany",
    "query",
    "snapshotRestore",
    "snapshot",
    "restore",
    "merge",
    "record",
    "loadRecord",
    "advance",
    "observe",
];
const EXTRA: [&str; 4] = ["tag", "args", "expect", "expectError"];

fn engine(config: Option<&Value>, at: &str) -> StatusEngine {
    let config: Config = serde_json::from_value(config.cloned().unwrap_or_else(|| json!({})))
        .unwrap_or_else(|e| panic!("{at}: bad config: {e}"));
    StatusEngine::new(config).unwrap_or_else(|e| panic!("{at}: bad config: {e}"))
}
/// An object is serialized to compact JSON, a string passed as-is.
fn bytes(v: &Value) -> Vec<u8> {
    v.as_str().map_or_else(|| serde_json::to_vec(v).unwrap(), |s| s.as_bytes().to_vec())
}
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("bad hex")).collect()
}
/// The state without this instance's ingest counters: a fresh engine merged with this one.
fn state(e: &StatusEngine) -> String {
    let mut fresh = StatusEngine::new(*e.config()).unwrap();
    fresh.merge(e).unwrap();
    hex(&fresh.snapshot())
}

/// Runs one step's operation; `Ok(answer)` is compared with `expect`.
fn op(eng: &mut StatusEngine, step: &Value, snap: &[u8], at: &str) -> Result<Value, Error> {
    let (tag, args) = (step.get("tag").and_then(Value::as_str), &step["args"]);
    let arg = |k: &str| args.get(k).and_then(Value::as_str);
    let id = || arg("clientId").unwrap_or_else(|| panic!("{at}: args.clientId missing"));
    let s = |k: &str| step[k].as_str().unwrap_or_else(|| panic!("{at}: {k} must be a string"));
    Ok(match OPS.iter().find(|k| step.get(**k).is_some()).copied() {
        Some("ingest") => to_value(eng.ingest_json(&bytes(&step["ingest"]), tag)?).unwrap(),
        Some("ingestHex") => to_value(eng.ingest_json(&unhex(s("ingestHex")), tag)?).unwrap(),
        Some("ingestMany") => {
            let report = match &step["ingestMany"] {
                Value::Array(items) => eng.ingest_items(items.iter().map(bytes)),
                Value::String(text) => eng.ingest_many(text.as_bytes()),
                _ => panic!("{at}: ingestMany must be a string or an array"),
            };
            let mut v = to_value(report).unwrap();
            for e in v["errors"].as_array_mut().unwrap() {
                e.as_object_mut().unwrap().remove("message"); // messages are not compared
            }
            v
        }
        Some("query") => match s("query") {
            "isOnline" => json!(eng.is_online(id())),
            "client" => to_value(eng.client(id())).unwrap(),
            "onlineClients" => {
                let limit = args.get("limit").and_then(Value::as_u64).map(|l| l as usize);
                json!(eng.online_clients(arg("group"), arg("after"), limit))
            }
            "countOnline" => json!(eng.count_online(arg("group"))),
            "groups" => to_value(eng.groups()).unwrap(),
            "stats" => to_value(eng.stats()).unwrap(),
            "staleOnline" => {
                let n =
                    |k: &str| args[k].as_u64().unwrap_or_else(|| panic!("{at}: args.{k} must be an integer"));
                to_value(eng.stale_online(n("olderThanMs"), n("nowMs"), n("limit") as usize)).unwrap()
            }
            other => panic!("{at}: unknown query {other:?}"),
        },
        Some("snapshotRestore") => {
            *eng = StatusEngine::restore(snap).unwrap_or_else(|e| panic!("{at}: restore failed: {e}"));
            assert_eq!(hex(&eng.snapshot()), hex(snap), "{at}: the restored engine's snapshot differs");
            Value::Null
        }
        Some("record") => {
            let r = &step["record"];
            let id = r["clientId"].as_str().unwrap_or_else(|| panic!("{at}: record.clientId missing"));
            let got = eng.client_record(id).map(|b| hex(&b));
            if std::env::var_os("VECTORS_PRINT_SNAPSHOTS").is_some() {
                println!("{at}: record {got:?}");
            } else {
                assert_eq!(got.as_deref(), r["hex"].as_str(), "{at}: record bytes differ (actual left)");
            }
            Value::Null
        }
        Some("loadRecord") => {
            let r = &step["loadRecord"];
            let id = r["clientId"].as_str().unwrap_or_else(|| panic!("{at}: loadRecord.clientId missing"));
            let bytes = unhex(r["hex"].as_str().unwrap_or_else(|| panic!("{at}: loadRecord.hex missing")));
            eng.load_record(id, &bytes)?;
            Value::Null
        }
        Some("snapshot") if std::env::var_os("VECTORS_PRINT_SNAPSHOTS").is_some() => {
            println!("{at}: snapshot {}", hex(snap));
            Value::Null
        }
        Some("snapshot") => {
            assert_eq!(hex(snap), s("snapshot"), "{at}: snapshot bytes differ (actual left)");
            Value::Null
        }
        Some("restore") => {
            *eng = StatusEngine::restore(&unhex(s("restore")))?;
            Value::Null
        }
        Some("advance") => {
            let now = step["advance"].as_u64().unwrap_or_else(|| panic!("{at}: advance must be an integer"));
            to_value(eng.advance(now)?).unwrap()
        }
        Some("observe") => {
            let o = &step["observe"];
            let id = o["clientId"].as_str().unwrap_or_else(|| panic!("{at}: observe.clientId missing"));
            let online = o["online"].as_bool().unwrap_or_else(|| panic!("{at}: observe.online missing"));
            let time = o["time"].as_u64().unwrap_or_else(|| panic!("{at}: observe.time missing"));
            to_value(eng.observe(id, online, time)?).unwrap()
        }
        Some("merge") => {
            let m = &step["merge"];
            let sub = format!("{at} (merge)");
            let other = run(
                m["steps"].as_array().map_or(&[][..], Vec::as_slice),
                engine(m.get("config"), &sub),
                &sub,
            );
            eng.merge(&other)?;
            Value::Null
        }
        _ => unreachable!(),
    })
}

fn run(steps: &[Value], mut eng: StatusEngine, name: &str) -> StatusEngine {
    for (i, step) in steps.iter().enumerate() {
        let at = format!("{name}, step {i}");
        let keys: Vec<&str> = step.as_object().map_or(vec![], |o| o.keys().map(String::as_str).collect());
        let ops = keys.iter().filter(|k| OPS.contains(k)).count();
        let known = keys.iter().all(|k| OPS.contains(k) || EXTRA.contains(k));
        assert!(ops == 1 && known, "{at}: a step needs exactly one operation and only known keys: {step}");
        let (stats0, state0, snap0) = (eng.stats(), state(&eng), eng.snapshot());
        match (op(&mut eng, step, &snap0, &at), step.get("expectError")) {
            (Ok(v), None) => {
                if let Some(want) = step.get("expect") {
                    assert_eq!(&v, want, "{at}: answer differs (actual left)");
                }
            }
            (Ok(v), Some(w)) => panic!("{at}: expected error {w}, got {v}"),
            (Err(e), None) => panic!("{at}: unexpected error {} {:?}: {e}", e.code(), e.field()),
            (Err(e), Some(w)) => {
                let want = json!({"code": w["code"], "field": w.get("field").unwrap_or(&Value::Null)});
                assert_eq!(
                    json!({"code": e.code().as_str(), "field": e.field()}),
                    want,
                    "{at}: wrong error ({e})"
                );
                if keys.contains(&"ingest") || keys.contains(&"ingestHex") || keys.contains(&"observe") {
                    // A rejection is counted (events, rejected) and changes nothing else.
                    let mut s = stats0;
                    (s.events, s.rejected) = (s.events + 1, s.rejected + 1);
                    assert_eq!(eng.stats(), s, "{at}: a rejected input changed stats beyond events/rejected");
                    assert_eq!(state(&eng), state0, "{at}: a rejected input changed the state");
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
    assert!(files.len() >= 40, "only {} vectors in {}", files.len(), dir.display());
    assert!(files.iter().any(|p| p.ends_with("record-golden.json")), "record vectors missing");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let v: Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v["name"].as_str(), name.strip_suffix(".json"), "{name}: `name` must be the file name");
        let steps = v["steps"].as_array().unwrap_or_else(|| panic!("{name}: no steps"));
        run(steps, engine(v.get("config"), &name), &name);
    }
}
