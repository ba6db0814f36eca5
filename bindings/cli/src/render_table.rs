//! `replay --format table` and `status`: the summary for people.

use std::io::{self, Write};

use mqtt_status::{ChannelState, ClientStatus, GroupCount};

use crate::answers::Answers;
use crate::progress::{human_bytes, human_count};
use crate::report::Replay;
use crate::timefmt::format_time;

/// Online clients listed by default (`--limit` changes it, `--limit 0` lists all).
pub const DEFAULT_LIMIT: usize = 20;
/// Rejected lines shown (the rest are counted; `mqtt-status check` lists them all).
const SHOWN_REJECTED: usize = 10;
/// Groups shown.
const SHOWN_GROUPS: usize = 20;

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn opt_time(t: Option<u64>) -> String {
    t.map_or_else(|| "-".to_string(), format_time)
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Writes the summary, the groups, the online clients, the requested clients' channel tables
/// and the first rejected lines: of a replay (`r`), or of a store alone (`status`, no `r`).
pub fn render(out: &mut impl Write, r: Option<&Replay>, a: &Answers) -> io::Result<()> {
    let s = &a.stats;
    let c = &a.config;
    if let Some(r) = r {
        let secs = r.elapsed.as_secs_f64();
        let what = if r.inputs.is_empty() { "no input".to_string() } else { r.inputs.join(", ") };
        writeln!(out, "replayed {what}")?;
        if let Some(snap) = &r.restored_from {
            writeln!(out, "  starting from snapshot {snap}")?;
        }
        // A rate over a few milliseconds says nothing; show it only for real work.
        let rate = if secs >= 0.2 {
            format!(" ({} lines/s)", human_count(r.lines as f64 / secs))
        } else {
            String::new()
        };
        writeln!(out, "  {} lines, {} in {secs:.2} s{rate}", thousands(r.lines), human_bytes(r.bytes))?;
        if let Some(url) = &a.store {
            writeln!(out, "  into store {url}")?;
        }
    } else {
        writeln!(out, "store {}", a.store.as_deref().unwrap_or("-"))?;
    }
    writeln!(
        out,
        "  policy: takeover {}, close-on-disconnect {}, {} tombstones per client, ids up to {} bytes{}",
        on_off(c.takeover),
        on_off(c.close_on_disconnect),
        c.tombstones_per_client,
        c.max_id_len,
        // Shown only when on, so the summary without a grace is what it always was.
        if c.offline_grace_ms > 0 {
            format!(", offline grace {} ms", thousands(c.offline_grace_ms))
        } else {
            String::new()
        }
    )?;
    if let Some(at) = r.and_then(|r| r.at.map(|at| (at, r.skipped))) {
        writeln!(out, "  as of {} ({} later events skipped)", format_time(at.0), thousands(at.1))?;
    }
    writeln!(out)?;
    let pct = if s.clients > 0 { 100.0 * s.online as f64 / s.clients as f64 } else { 0.0 };
    // A store's event counters are the counting handle's own: a replay's, or nothing in
    // `status`, which therefore shows only the shared state.
    if r.is_some() {
        writeln!(
            out,
            "events   {:>9}   applied {}  duplicates {}  late {}  rejected {}",
            thousands(s.events),
            thousands(s.applied),
            thousands(s.duplicates),
            thousands(s.late),
            thousands(s.rejected)
        )?;
    }
    writeln!(
        out,
        "clients  {:>9}   online {} ({pct:.1}%)  open channels {}  tombstones {}",
        thousands(s.clients),
        thousands(s.online),
        thousands(s.open_channels),
        thousands(s.tombstones)
    )?;
    if r.is_some() {
        writeln!(
            out,
            "flips    {:>9}   went online {}  went offline {}  latest event {}",
            thousands(s.went_online + s.went_offline),
            thousands(s.went_online),
            thousands(s.went_offline),
            opt_time(s.max_time)
        )?;
        if let Some(r) = r.filter(|_| a.config.offline_grace_ms > 0) {
            // What the grace did (docs/cli.md): flaps shorter than it are in no count.
            writeln!(
                out,
                "grace    {:>9}   offlines pending {}  ended unreported by a reconnect {}  confirmed at the end {}",
                format!("{} ms", thousands(a.config.offline_grace_ms)),
                thousands(s.pending_offline.unwrap_or(0)),
                thousands(r.unreported_offlines),
                thousands(r.confirmed_at_end)
            )?;
        }
    } else {
        writeln!(out, "latest event {}", opt_time(s.max_time))?;
    }
    render_groups(out, &a.groups)?;
    render_online(out, a, r.is_none())?;
    for (id, status) in &a.clients {
        writeln!(out)?;
        match status {
            Some(status) => render_client(out, status)?,
            None => writeln!(out, "client {id}: never seen (offline)")?,
        }
    }
    if let Some(r) = r {
        render_rejected(out, r)?;
    }
    if a.clients.is_empty() {
        let hint = if r.is_some() {
            "--client ID shows a client's channels, --at TIME answers as of a time"
        } else {
            "--client ID shows a client's channels, --feed the latest flips"
        };
        writeln!(out, "\n({hint}, --format json is for scripts)")?;
    }
    Ok(())
}

fn render_groups(out: &mut impl Write, groups: &[GroupCount]) -> io::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let w = groups.iter().take(SHOWN_GROUPS).map(|g| g.group_id.len()).max().unwrap_or(0).max(5);
    writeln!(out, "\n{:<w$}  {:>9}  {:>9}", "group", "online", "known")?;
    for g in groups.iter().take(SHOWN_GROUPS) {
        writeln!(out, "{:<w$}  {:>9}  {:>9}", g.group_id, thousands(g.online), thousands(g.known))?;
    }
    if groups.len() > SHOWN_GROUPS {
        writeln!(out, "… and {} more groups (--format json lists all)", groups.len() - SHOWN_GROUPS)?;
    }
    Ok(())
}

/// The online listing; `pages`: say how to get the next page with `--after` (`status`).
fn render_online(out: &mut impl Write, a: &Answers, pages: bool) -> io::Result<()> {
    let (count, ids) = (a.count, &a.online);
    let scope = a.group.as_deref().map_or_else(String::new, |g| format!(" in group {g}"));
    let next = |more: bool| match ids.last() {
        Some(last) if more => format!("; --after {last} for more"),
        _ => String::new(),
    };
    let shown = match &a.after {
        Some(after) if pages => format!(" ({} after {after}{})", ids.len(), next(a.truncated)),
        _ if a.truncated && pages => format!(" (first {}{}, --limit 0 lists all)", ids.len(), next(true)),
        _ if a.truncated => format!(" (first {}; --limit 0 lists all)", ids.len()),
        _ => String::new(),
    };
    writeln!(out, "\nonline clients{scope}: {}{shown}", thousands(count))?;
    if ids.is_empty() {
        return Ok(());
    }
    let w = ids.iter().map(String::len).max().unwrap_or(0).max(6);
    writeln!(out, "  {:<w$}  {:<24}  {:<21}  channels", "client", "online since", "ip")?;
    for (id, st) in ids.iter().zip(&a.details) {
        let Some(st) = st else { continue };
        let open: Vec<_> = st.channels.iter().filter(|ch| ch.state == ChannelState::Open).collect();
        let newest = open.iter().max_by_key(|ch| ch.connect_time);
        let since = opt_time(open.iter().filter_map(|ch| ch.connect_time).min());
        let ip = newest.and_then(|ch| ch.client_ip.clone()).or(st.last_ip.clone()).unwrap_or_default();
        writeln!(out, "  {id:<w$}  {since:<24}  {ip:<21}  {}", open.len())?;
    }
    Ok(())
}

/// Writes one client's channel table.
pub fn render_client(out: &mut impl Write, st: &ClientStatus) -> io::Result<()> {
    let group = st.group_id.as_deref().map_or_else(|| "no group".to_string(), |g| format!("group {g}"));
    writeln!(
        out,
        "client {}: {}  ({group}, device {})",
        st.client_id,
        if st.online { "ONLINE" } else { "offline" },
        st.device_id
    )?;
    writeln!(
        out,
        "  last event {}  last ip {}  connects {}  horizon {}",
        opt_time(st.last_event_time),
        st.last_ip.as_deref().unwrap_or("-"),
        st.connects,
        opt_time(st.horizon)
    )?;
    let w = st.channels.iter().map(|ch| ch.channel_id.len()).max().unwrap_or(0).max(7);
    // A close reason column only when some close carried one (other tables keep their bytes).
    let reasons = st.channels.iter().any(|ch| ch.reason.is_some());
    let ip = |ch: &mqtt_status::ChannelStatus| ch.client_ip.as_deref().unwrap_or("-").to_string();
    let iw = st.channels.iter().map(|ch| ip(ch).chars().count()).max().unwrap_or(0).max(2);
    let tail = |ip: &str, reason: &str| match reasons {
        true => format!("{ip:<iw$}  {reason}"),
        false => ip.to_string(),
    };
    writeln!(
        out,
        "  {:<w$}  {:<10}  {:<24}  {:<24}  {:<24}  {}",
        "channel",
        "state",
        "connect",
        "disconnect",
        "close",
        tail("ip", "reason")
    )?;
    // Chronological (the core sorts by channelId), which reads better for a person.
    let mut channels: Vec<_> = st.channels.iter().collect();
    channels.sort_by_key(|ch| (ch.connect_time.or(ch.disconnect_time).or(ch.close_time), &ch.channel_id));
    for ch in channels {
        let state = match ch.state {
            ChannelState::Open => "open",
            ChannelState::Closed => "closed",
            ChannelState::Superseded => "superseded",
        };
        writeln!(
            out,
            "  {:<w$}  {state:<10}  {:<24}  {:<24}  {:<24}  {}",
            ch.channel_id,
            opt_time(ch.connect_time),
            opt_time(ch.disconnect_time),
            opt_time(ch.close_time),
            tail(&ip(ch), ch.reason.as_deref().unwrap_or("-"))
        )?;
    }
    Ok(())
}

fn render_rejected(out: &mut impl Write, r: &Replay) -> io::Result<()> {
    if r.rejected_total == 0 {
        return Ok(());
    }
    writeln!(out, "\nrejected lines: {}", thousands(r.rejected_total))?;
    for x in r.rejected.iter().take(SHOWN_REJECTED) {
        let field = x.field.as_deref().unwrap_or("-");
        writeln!(out, "  {}:{}: {} {field}: {}", x.file, x.line, x.code, x.message)?;
    }
    if r.rejected_total > SHOWN_REJECTED as u64 {
        writeln!(out, "  … `mqtt-status check FILE` lists all of them")?;
    }
    Ok(())
}
