//! The store's API against a real standalone Redis and a real Redis Cluster: every query equals
//! one engine's after the same batches; feed paging; snapshot out and in; configuration and
//! corrupt records; bad URLs and cursors.

mod common;

use common::{assert_same, config, engine, fresh_prefix, open, servers, stream, url};
use mqtt_status::{Config, ErrorCode, EventBatch, StatusEngine};
use mqtt_status_store::StatusStore;

#[test]
fn batches_answer_like_one_engine() {
    for (name, base) in servers() {
        let cfg = config(name == "cluster");
        let store = open(&base, &fresh_prefix("api"), cfg);
        let lines = stream(11, 120, 6);
        let mut one = StatusEngine::new(cfg).unwrap();
        let mut returned = Vec::new();
        for (k, chunk) in lines.chunks(97).enumerate() {
            let mut text = chunk.join("\n");
            if k == 1 {
                text.push_str("\n{\"bad\":1}\n\n"); // a bad line and a blank one: reported as by the engine
            }
            let got = store.ingest_many(text.as_bytes()).unwrap();
            let want = one.ingest_many(text.as_bytes());
            assert_eq!(got, want, "{name}: batch {k} report");
            returned.extend(got.transitions.to_vec());
        }
        assert_same(&store, &one, name);
        let s = store.stats().unwrap();
        assert_eq!((s.events, s.rejected), (one.stats().events, 1), "{name}: this handle's counters");
        // The feed holds exactly the returned transitions, in order per client.
        let mut feed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.transitions(after.as_deref(), Some(50)).unwrap();
            if page.entries.is_empty() {
                assert_eq!(
                    page.next,
                    after.clone().unwrap_or_default(),
                    "{name}: an empty page keeps the cursor"
                );
                break;
            }
            assert_eq!(page.next, page.entries.last().unwrap().cursor);
            feed.extend(page.entries.into_iter().map(|x| x.transition));
            after = Some(page.next);
        }
        let key = |t: &mqtt_status::Transition| (t.client_id.clone(), t.time, t.online);
        let (mut a, mut b) = (feed.clone(), returned.clone());
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "{name}: feed = returned transitions");
        // Single ingests: a redelivery returns nothing, a new close returns its flip.
        let id = one.online_clients(None, None, Some(1)).pop().expect("someone is online");
        let ch = one
            .client(&id)
            .unwrap()
            .channels
            .into_iter()
            .find(|c| c.state == mqtt_status::ChannelState::Open);
        let ch = ch.unwrap().channel_id;
        let body = format!(
            r#"{{"clientId":"{id}","channelId":"{ch}","eventType":"tcpclean","time":1800000000000}}"#
        );
        let t = store.ingest_json(body.as_bytes(), None).unwrap().expect("went offline");
        assert_eq!(Some(t), one.ingest_json(body.as_bytes(), None).unwrap());
        assert_eq!(store.ingest_json(body.as_bytes(), Some("tcpclean")).unwrap(), None);
        let err = store.ingest_json(b"{}", None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MissingField);
        assert_same(&store, &one, name);
    }
}

#[test]
fn snapshot_out_and_in() {
    for (name, base) in servers() {
        let cfg = config(false);
        let lines = stream(5, 60, 5);
        let e = engine(cfg, &lines);
        // Seed a store from a snapshot, then export it: the same state.
        let store = open(&base, &fresh_prefix("snap"), cfg);
        store.load_snapshot(&e.snapshot()).unwrap();
        assert_same(&store, &e, name);
        let back = StatusEngine::restore(&store.snapshot().unwrap()).unwrap();
        assert_eq!(back.client_ids(), e.client_ids());
        let mut fresh = StatusEngine::new(cfg).unwrap();
        fresh.merge(&e).unwrap();
        assert_eq!(back.snapshot(), fresh.snapshot(), "{name}: exported state");
        // Loading a snapshot of half the stream into a store holding the other half = all.
        let (a, b) = lines.split_at(lines.len() / 2);
        let store = open(&base, &fresh_prefix("snap2"), cfg);
        store.ingest_many(a.join("\n").as_bytes()).unwrap();
        store.load_snapshot(&engine(cfg, b).snapshot()).unwrap();
        assert_same(&store, &e, &format!("{name} (half + half)"));
        let other = engine(Config { takeover: true, ..cfg }, b).snapshot();
        assert_eq!(store.load_snapshot(&other).unwrap_err().code(), ErrorCode::ConfigMismatch);
    }
}

#[test]
fn another_config_or_shard_count_is_a_mismatch() {
    for (name, base) in servers() {
        let prefix = fresh_prefix("cfg");
        let a = StatusStore::open(&url(&base, &prefix, "&shards=4"), config(false)).unwrap();
        a.ingest_many(stream(1, 5, 2).join("\n").as_bytes()).unwrap();
        let err = StatusStore::open(&url(&base, &prefix, ""), config(true)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigMismatch, "{name}: {err}");
        let err = StatusStore::open(&url(&base, &prefix, "&shards=8"), config(false)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigMismatch, "{name}: {err}");
        // Without `shards` the stored count is used.
        let b = StatusStore::open(&url(&base, &prefix, ""), config(false)).unwrap();
        assert_eq!(b.count_online(None).unwrap(), a.count_online(None).unwrap());
    }
}

#[test]
fn the_seen_index_is_fixed_at_creation() {
    for (name, base) in servers() {
        let prefix = fresh_prefix("seen");
        let a = StatusStore::open(&url(&base, &prefix, "&stale_index=0"), config(false)).unwrap();
        a.ingest_many(stream(1, 5, 2).join("\n").as_bytes()).unwrap();
        let err = StatusStore::open(&url(&base, &prefix, "&stale_index=1"), config(false)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigMismatch, "{name}: {err}");
        // Without the option the stored choice is used: no index is written by any handle.
        let b = StatusStore::open(&url(&base, &prefix, ""), config(false)).unwrap();
        b.ingest_many(stream(2, 5, 2).join("\n").as_bytes()).unwrap();
        assert!(a.count_online(None).unwrap() > 0, "{name}: the stream leaves clients online");
        let client =
            redis::Client::open(base.split(',').next().unwrap().replace("redis+cluster://", "redis://"))
                .unwrap();
        let mut con = client.get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{{{prefix}:*}}:l")).query(&mut con).unwrap();
        assert!(keys.is_empty(), "{name}: seen index written: {keys:?}");
        let err = StatusStore::open(&url(&base, &prefix, "&stale_index=1"), config(false)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigMismatch, "{name}: {err}");
    }
}

#[test]
fn a_corrupt_record_is_invalid_snapshot_naming_the_client() {
    let base = common::standalone();
    let prefix = fresh_prefix("corrupt");
    let store = StatusStore::open(&url(&base, &prefix, "&shards=1"), config(false)).unwrap();
    let body = br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":5}"#;
    store.ingest_json(body, None).unwrap();
    let client = redis::Client::open(base.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    let key = format!("{{{prefix}:0}}:r");
    let rec: Vec<u8> = redis::cmd("HGET").arg(&key).arg("GID_a@@@d1").query(&mut con).unwrap();
    let mut bad = rec.clone();
    bad[2] ^= 0x40;
    let _: () = redis::cmd("HSET").arg(&key).arg("GID_a@@@d1").arg(&bad).query(&mut con).unwrap();
    let err = store.client("GID_a@@@d1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidSnapshot);
    assert!(err.to_string().contains("GID_a@@@d1"), "{err}");
    let close = br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"tcpclean","time":9}"#;
    let err = store.ingest_json(close, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidSnapshot, "{err}");
    // Nothing changed: the bad bytes are still there, the client still counted online.
    let now: Vec<u8> = redis::cmd("HGET").arg(&key).arg("GID_a@@@d1").query(&mut con).unwrap();
    assert_eq!(now, bad);
    assert_eq!(store.count_online(None).unwrap(), 1);
    // A record filed under another client's id is refused the same way.
    let _: () = redis::cmd("HSET").arg(&key).arg("GID_a@@@d2").arg(&rec).query(&mut con).unwrap();
    let err = store.client("GID_a@@@d2").unwrap_err();
    assert!(err.code() == ErrorCode::InvalidSnapshot && err.to_string().contains("GID_a@@@d2"), "{err}");
}

/// A batch whose shares are sent one by one as they are judged: a share that cannot be judged
/// (a corrupt record) after earlier shares were sent fails the call with the record's error,
/// leaves the connection in step (the earlier replies are read), and a retry once the record is
/// mended gives what one engine gives: each shard's step applied whole or not at all.
#[test]
fn a_share_that_fails_after_others_were_sent_leaves_the_link_in_step() {
    for (name, base) in servers() {
        let cfg = config(false);
        let prefix = fresh_prefix("midway");
        let store = open(&base, &prefix, cfg);
        let lines = stream(23, 160, 4);
        let (first, second) = lines.split_at(lines.len() / 2);
        store.ingest_many(first.join("\n").as_bytes()).unwrap();
        // The client of the shard that comes last in the second half's order of shares.
        let id_of = |l: &str| EventBatch::from_jsonl(l.as_bytes(), 256).client_id(0).to_string();
        let mut order: Vec<u32> = Vec::new();
        let mut last_id = String::new();
        for l in second {
            let id = id_of(l);
            let shard = mqtt_status::record_shard(&id, 16);
            if !order.contains(&shard) {
                order.push(shard);
                last_id = id;
            }
        }
        assert!(order.len() > 8, "{name}: the batch spans many shards");
        let shard = mqtt_status::record_shard(&last_id, 16);
        let key = format!("{{{prefix}:{shard}}}:r");
        let mut con = raw_connection(&base);
        let good: Vec<u8> = redis::cmd("HGET").arg(&key).arg(&last_id).query(con.as_mut()).unwrap();
        assert!(!good.is_empty(), "{name}: {last_id} has a record after the first half");
        let mut bad = good.clone();
        bad[2] ^= 0x40;
        let _: () = redis::cmd("HSET").arg(&key).arg(&last_id).arg(&bad).query(con.as_mut()).unwrap();
        let batch = second.join("\n");
        // A handle of its own: nothing cached, so the bad record is read before any share is judged.
        let store = open(&base, &prefix, cfg);
        let err = store.ingest_many(batch.as_bytes()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSnapshot, "{name}: {err}");
        assert!(err.to_string().contains(&last_id), "{name}: {err}");
        // The handle's next replies are its own: its count is what the shards hold now.
        let mut held = 0;
        for s in 0..16 {
            let o: Option<u64> =
                redis::cmd("HGET").arg(format!("{{{prefix}:{s}}}:n")).arg("o").query(con.as_mut()).unwrap();
            held += o.unwrap_or(0);
        }
        assert_eq!(store.count_online(None).unwrap(), held, "{name}: count after the failed call");
        let _: () = redis::cmd("HSET").arg(&key).arg(&last_id).arg(&good).query(con.as_mut()).unwrap();
        store.ingest_many(batch.as_bytes()).unwrap();
        assert_same(&store, &engine(cfg, &lines), name);
    }
}

/// A plain connection to the server behind a test URL (a cluster connection for a cluster).
fn raw_connection(base: &str) -> Box<dyn redis::ConnectionLike> {
    match base.strip_prefix("redis+cluster://") {
        Some(hosts) => {
            let nodes: Vec<String> = hosts.split(',').map(|h| format!("redis://{h}")).collect();
            Box::new(redis::cluster::ClusterClient::new(nodes).unwrap().get_connection().unwrap())
        }
        None => Box::new(redis::Client::open(base).unwrap().get_connection().unwrap()),
    }
}

#[test]
fn bad_urls_and_cursors() {
    let base = common::standalone();
    for bad in [
        "http://x",
        "redis://127.0.0.1:1?shards=0",
        "redis://127.0.0.1:1?nope=1",
        "redis+cluster://",
        "redis://127.0.0.1:1?stale_index=2",
        "redis://127.0.0.1:1?stale_index=",
    ] {
        let err = StatusStore::open(bad, Config::default()).unwrap_err();
        assert_eq!((err.code(), err.field()), (ErrorCode::InvalidField, Some("url")), "{bad}: {err}");
    }
    let store = open(&base, &fresh_prefix("cursor"), Config::default());
    for bad in ["x", "1,2", "0-0-0"] {
        let err = store.transitions(Some(bad), None).unwrap_err();
        assert_eq!((err.code(), err.field()), (ErrorCode::InvalidField, Some("after")), "{bad}");
    }
}

#[test]
fn a_big_batch_on_few_clients_is_one_commit_per_shard() {
    // 120 clients with up to 200 sessions each in one call on one shard: over 4 000 flips in
    // one commit (more values than Lua's unpack takes: the feed splits them into entries of 500).
    for (name, base) in servers() {
        let cfg = mqtt_status::Config { tombstones_per_client: 8, ..config(false) };
        let lines = stream(8, 120, 200);
        // One shard: every flip in one commit.
        let store = StatusStore::open(&url(&base, &fresh_prefix("big"), "&shards=1"), cfg).unwrap();
        let mut one = StatusEngine::new(cfg).unwrap();
        let text = lines.join("\n");
        let got = store.ingest_many(text.as_bytes()).unwrap();
        assert_eq!(got, one.ingest_many(text.as_bytes()), "{name}");
        assert!(got.transitions.len() > 4000, "{name}: only {} flips", got.transitions.len());
        assert_same(&store, &one, name);
        let mut fed = common::feed(&store);
        common::assert_feed_tracks(&fed, &one, name);
        let mut returned = got.transitions.to_vec();
        let key = |t: &mqtt_status::Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone());
        fed.sort_by_key(key);
        returned.sort_by_key(key);
        assert_eq!(fed, returned, "{name}: feed = returned transitions");
    }
}

#[test]
fn a_flushed_script_cache_is_sent_again() {
    // The step is sent with EVALSHA on a standalone server; a server without the script
    // (restarted, flushed, failed over) answers NOSCRIPT for those shards, which ran nothing
    // and are sent again with EVAL. Flushed between every batch here: the answers do not change.
    let base = common::standalone();
    let cfg = config(false);
    let store = open(&base, &fresh_prefix("noscript"), cfg);
    let mut flusher = redis::Client::open(base.as_str()).unwrap().get_connection().unwrap();
    let lines = stream(12, 80, 5);
    let mut one = StatusEngine::new(cfg).unwrap();
    for chunk in lines.chunks(53) {
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut flusher).unwrap();
        let text = chunk.join("\n");
        assert_eq!(store.ingest_many(text.as_bytes()).unwrap(), one.ingest_many(text.as_bytes()));
    }
    assert_same(&store, &one, "script flushed before every batch");
    assert_eq!(store.conflicts(), 0, "a NOSCRIPT reply is not a conflict");
}

#[test]
fn open_existing_refuses_a_store_that_was_never_created() {
    // A reader (`mqtt-status status --store URL`) with a mistyped URL must not get a new, empty
    // store answering "nobody online": invalid_field (url), and nothing is created.
    let mut urls: Vec<(String, String)> = servers().into_iter().map(|(n, b)| (n.to_string(), b)).collect();
    let dir = std::env::temp_dir().join(fresh_prefix("open-existing"));
    urls.push(("file".into(), format!("file:{}", dir.display())));
    for (name, base) in urls {
        let cfg = config(false);
        let url = if name == "file" { base.clone() } else { url(&base, &fresh_prefix("existing"), "") };
        let e = StatusStore::open_existing(&url, cfg).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidField, "{name}: {e}");
        assert!(e.to_string().contains("no status store"), "{name}: {e}");
        // Still nothing there: the refusal created nothing.
        assert_eq!(
            StatusStore::open_existing(&url, cfg).unwrap_err().code(),
            ErrorCode::InvalidField,
            "{name}"
        );
        if name == "file" {
            assert!(!dir.exists(), "open_existing created {}", dir.display());
        }
        // Once created, it opens, with the same configuration checks as open.
        let lines = stream(13, 20, 3);
        StatusStore::open(&url, cfg).unwrap().ingest_many(lines.join("\n").as_bytes()).unwrap();
        let existing = StatusStore::open_existing(&url, cfg).unwrap();
        assert_same(&existing, &engine(cfg, &lines), &name);
        drop(existing); // a file store has one opener at a time
        let other = Config { takeover: true, ..cfg };
        assert_eq!(
            StatusStore::open_existing(&url, other).unwrap_err().code(),
            ErrorCode::ConfigMismatch,
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
