//! Group commit: 8 threads calling `ingest_json` on ONE handle at once share commits (fewer
//! commits than calls), each call gets exactly its own event's transition, and the result equals
//! one engine's, on a standalone server and a cluster.

mod common;

use common::{assert_feed_tracks, assert_same, config, engine, feed, fresh_prefix, open, servers, stream};
use mqtt_status::Transition;

#[test]
fn concurrent_single_ingests_share_commits() {
    for (name, base) in servers() {
        let cfg = config(true);
        let lines = stream(77, 40, 6);
        let store = open(&base, &fresh_prefix("group"), cfg);
        const THREADS: usize = 8;
        let returned: Vec<(String, Option<Transition>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|k| {
                    let (store, lines) = (&store, &lines);
                    s.spawn(move || {
                        let mine = lines.iter().skip(k).step_by(THREADS);
                        mine.map(|l| (l.clone(), store.ingest_json(l.as_bytes(), None).unwrap()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let calls = lines.len() as u64;
        let commits = store.group_commits();
        eprintln!("{name}: {calls} calls, {commits} commits");
        assert!(
            commits < calls,
            "{name}: {commits} commits for {calls} concurrent calls: nothing was grouped"
        );
        // A call's transition is its own event's: same client, channel, time and type.
        for (line, t) in &returned {
            if let Some(t) = t {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["clientId"], t.client_id.as_str(), "{name}: {line} got {t:?}");
                assert_eq!(v["channelId"], t.channel_id.as_str(), "{name}: {line} got {t:?}");
                assert_eq!(v["time"], t.time, "{name}: {line} got {t:?}");
                assert_eq!(v["eventType"], t.event_type.as_str(), "{name}: {line} got {t:?}");
            }
        }
        let one = engine(cfg, &lines);
        assert_same(&store, &one, name);
        let fed = feed(&store);
        assert_feed_tracks(&fed, &one, name);
        let mut got: Vec<Transition> = returned.into_iter().filter_map(|(_, t)| t).collect();
        let mut fed = fed;
        let key = |t: &Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone());
        got.sort_by_key(key);
        fed.sort_by_key(key);
        assert_eq!(got, fed, "{name}: feed = transitions returned to the callers");
        assert_eq!(store.stats().unwrap().events, calls);
    }
}
