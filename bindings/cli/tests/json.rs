//! The `--format json` document: every documented key, with its type.

mod common;

use common::{generate, replay_json, scratch};
use serde_json::Value;

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn is_opt_u64(v: &Value) -> bool {
    v.is_null() || v.is_u64()
}

#[test]
fn schema_keys_and_types() {
    let dir = scratch("json");
    let g = generate(&dir, "j", &["--clients", "100", "--seed", "41", "--invalid", "0.02"]);
    let online = g.truth_online();
    let doc =
        replay_json(&[g.log_str(), "--client", &online[0], "--client", "GID_x@@@nobody", "--limit", "5"]);

    assert_eq!(
        keys(&doc),
        [
            "at",
            "clients",
            "config",
            "groups",
            "inputs",
            "lines",
            "online",
            "rejected",
            "restoredFrom",
            "skipped",
            "stats",
            "version"
        ]
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["inputs"], serde_json::json!([g.log_str()]));
    assert!(doc["at"].is_null() && doc["restoredFrom"].is_null());
    assert!(doc["lines"].is_u64() && doc["skipped"].is_u64());
    assert_eq!(
        doc["config"],
        serde_json::json!({"closeOnDisconnect": false, "takeover": false, "tombstonesPerClient": 8, "maxIdLen": 256, "maxOpenChannels": 8})
    );

    let stats = &doc["stats"];
    assert_eq!(
        keys(stats),
        [
            "applied",
            "clients",
            "duplicates",
            "events",
            "late",
            "maxTime",
            "online",
            "openChannels",
            "rejected",
            "tombstones",
            "wentOffline",
            "wentOnline"
        ]
    );
    assert!(stats.as_object().unwrap().values().all(Value::is_u64));

    let o = &doc["online"];
    assert_eq!(keys(o), ["clients", "count", "group", "truncated"]);
    assert_eq!(o["count"], online.len());
    assert_eq!(o["clients"].as_array().unwrap().len(), 5);
    assert_eq!(o["truncated"], true);
    assert!(o["group"].is_null());

    for group in doc["groups"].as_array().unwrap() {
        assert_eq!(keys(group), ["groupId", "known", "online"]);
        assert!(group["groupId"].is_string() && group["known"].is_u64() && group["online"].is_u64());
    }

    assert_eq!(keys(&doc["clients"]), [online[0].as_str(), "GID_x@@@nobody"]);
    assert!(doc["clients"]["GID_x@@@nobody"].is_null());
    let c = &doc["clients"][&online[0]];
    assert_eq!(
        keys(c),
        [
            "channels",
            "clientId",
            "connects",
            "deviceId",
            "groupId",
            "horizon",
            "lastEventTime",
            "lastIp",
            "online"
        ]
    );
    assert_eq!(c["online"], true);
    assert!(c["connects"].is_u64() && is_opt_u64(&c["horizon"]) && is_opt_u64(&c["lastEventTime"]));
    for ch in c["channels"].as_array().unwrap() {
        assert_eq!(
            keys(ch),
            ["channelId", "clientIp", "closeTime", "connectTime", "disconnectTime", "state"]
        );
        assert!(["open", "closed", "superseded"].contains(&ch["state"].as_str().unwrap()));
        assert!(is_opt_u64(&ch["connectTime"]) && is_opt_u64(&ch["closeTime"]));
    }

    let r = &doc["rejected"];
    assert_eq!(keys(r), ["lines", "total", "truncated"]);
    assert_eq!(r["total"], g.truth()["invalid"]);
    assert_eq!(r["truncated"], false);
    for line in r["lines"].as_array().unwrap() {
        assert_eq!(keys(line), ["code", "field", "file", "line", "message"]);
        assert!(line["line"].as_u64().unwrap() >= 1);
        assert!(line["field"].is_null() || line["field"].is_string());
    }

    // The document does not depend on the clock: two runs give the same bytes.
    let again =
        replay_json(&[g.log_str(), "--client", &online[0], "--client", "GID_x@@@nobody", "--limit", "5"]);
    assert_eq!(doc, again);
}

#[test]
fn table_output_names_the_essentials() {
    let dir = scratch("table");
    let g = generate(&dir, "t", &["--clients", "50", "--seed", "42", "--invalid", "0.05"]);
    let online = g.truth_online();
    let out = common::ok(&common::run(&["replay", g.log_str(), "--client", &online[0], "--limit", "0"]));
    assert!(out.contains(&format!("online {}", online.len())), "{out}");
    for id in &online {
        assert!(out.contains(id.as_str()));
    }
    assert!(out.contains(&format!("client {}: ONLINE", online[0])));
    assert!(out.contains("rejected lines:"));
}
