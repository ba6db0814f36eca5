//! `mqtt-status status --store URL`: the answers of a live status store (the one `replay
//! --store` or any binding's consumers fill), printed by the replay's own renderers; or, with
//! `--feed`, a page of the store's transition feed.

use std::io::{self, Write};

use mqtt_status::{Error, Transition};
use mqtt_status_store::{FeedPage, StatusStore};
use serde::Serialize;

use crate::answers::Query;
use crate::args::{Format, StatusArgs};
use crate::error::{CliError, EXIT_OK};
use crate::render_table::thousands;
use crate::replay::{gather, limit_for, policy_config};
use crate::timefmt::format_time;
use crate::{render_json, render_table};

/// Feed entries printed when `--limit` is not given.
pub const DEFAULT_FEED_LIMIT: usize = 100;

/// Runs `mqtt-status status`.
pub fn run(args: &StatusArgs) -> Result<u8, CliError> {
    // Never creates: a mistyped URL or path is an error (invalid_field, exit 2), not an empty
    // store answering "nobody online".
    let store = StatusStore::open_existing(&args.store, policy_config(&args.policy))
        .map_err(|e| CliError::store(&args.store, &e))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.feed {
        let page = feed(&store, args.after.as_deref(), args.limit.unwrap_or(DEFAULT_FEED_LIMIT))
            .map_err(|e| CliError::store(&args.store, &e))?;
        render_feed(&mut out, &args.store, &page, args.format)
    } else {
        let query = Query {
            group: args.group.as_deref(),
            after: args.after.as_deref(),
            limit: limit_for(args.format, args.limit),
            clients: &args.clients,
            details: args.format == Format::Table,
        };
        let answers = gather(&store, &query, &args.store)?;
        match args.format {
            Format::Table => render_table::render(&mut out, None, &answers),
            Format::Json => render_json::render(&mut out, None, &answers),
        }
    }
    .and_then(|()| out.flush())
    .map_err(|e| CliError::stdout(&e))?;
    Ok(EXIT_OK)
}

/// Entries read per call when `--limit 0` asks for every entry kept.
const FEED_PAGE: usize = 1_000;

/// Up to `limit` feed entries after `after` (`0`: every entry kept, read page by page, so the
/// answer does not depend on a backend's default page size).
pub fn feed(store: &StatusStore, after: Option<&str>, limit: usize) -> Result<FeedPage, Error> {
    if limit > 0 {
        return store.transitions(after, Some(limit));
    }
    let mut all = store.transitions(after, Some(FEED_PAGE))?;
    let mut last = all.entries.len();
    while last == FEED_PAGE {
        let page = store.transitions(Some(&all.next), Some(FEED_PAGE))?;
        last = page.entries.len();
        all.entries.extend(page.entries);
        all.next = page.next;
    }
    Ok(all)
}

/// `status --feed --format json`: the page as one document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedDocument<'a> {
    /// [`render_json::SCHEMA_VERSION`].
    pub version: u32,
    /// The store's URL.
    pub store: &'a str,
    /// The entries, oldest first.
    pub entries: Vec<FeedItem<'a>>,
    /// The cursor to pass as `--after` for the next page.
    pub next: &'a str,
}

/// One feed entry: its cursor and the flip.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedItem<'a> {
    /// The cursor just after this entry.
    pub cursor: &'a str,
    /// The flip.
    pub transition: &'a Transition,
}

/// Writes a feed page: a document (`json`), or one line per flip and the next cursor (`table`).
pub fn render_feed(out: &mut impl Write, url: &str, page: &FeedPage, format: Format) -> io::Result<()> {
    if format == Format::Json {
        let entries =
            page.entries.iter().map(|e| FeedItem { cursor: &e.cursor, transition: &e.transition }).collect();
        let doc =
            FeedDocument { version: render_json::SCHEMA_VERSION, store: url, entries, next: &page.next };
        return render_json::write_pretty(out, &doc);
    }
    writeln!(out, "store {url}: {} flips", thousands(page.entries.len() as u64))?;
    if !page.entries.is_empty() {
        let w = page.entries.iter().map(|e| e.cursor.len()).max().unwrap_or(0).max(6);
        let wc = page.entries.iter().map(|e| e.transition.client_id.len()).max().unwrap_or(0).max(6);
        writeln!(
            out,
            "  {:<w$}  {:<24}  {:<wc$}  {:<7}  {:<10}  channel",
            "cursor", "time", "client", "now", "event"
        )?;
        for e in &page.entries {
            let t = &e.transition;
            writeln!(
                out,
                "  {:<w$}  {:<24}  {:<wc$}  {:<7}  {:<10}  {}",
                e.cursor,
                format_time(t.time),
                t.client_id,
                if t.online { "online" } else { "offline" },
                t.event_type.as_str(),
                t.channel_id
            )?;
            if let Some(since) = t.offline_since {
                // A reconnect that ended an offline nobody reported (grace, docs/semantics.md).
                writeln!(out, "  {:<w$}  (offline since {}, unreported)", "", format_time(since))?;
            }
        }
    }
    writeln!(out, "\nnext: --feed --after {}", page.next)
}
