//! Building one call of the generic step script (`step.lua`): what a shard's commit compares
//! and writes, gathered by the caller (ingest, advance, snapshot join) and laid out in the
//! script's argument order.

use mqtt_status::Transition;
use redis::Cmd;

use super::RedisStore;

pub(super) const STEP: &str = include_str!("step.lua");

/// The script's SHA1, for `EVALSHA` (computed once).
pub(super) fn step_sha() -> &'static str {
    static SHA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SHA.get_or_init(|| redis::Script::new(STEP).get_hash().to_string())
}

/// Everything one step compares and writes on one shard.
#[derive(Default)]
pub(super) struct Step<'a> {
    /// (id, expected record or "" for absent, new record): compared, then written.
    pub(super) clients: Vec<[&'a [u8]; 3]>,
    /// Ids entering / leaving the online set.
    pub(super) online_adds: Vec<&'a [u8]>,
    pub(super) online_rems: Vec<&'a [u8]>,
    /// (deadline, id) entering the pending index; ids leaving it.
    pub(super) pending_adds: Vec<(u64, &'a [u8])>,
    pub(super) pending_rems: Vec<&'a [u8]>,
    /// (last sign of life, id) entering or moving in the seen index; ids leaving it.
    pub(super) seen_adds: Vec<(u64, &'a [u8])>,
    pub(super) seen_rems: Vec<&'a [u8]>,
    /// Count ops: ("+" add or "M" max, field, value).
    pub(super) ops: Vec<(&'static str, String, i128)>,
    /// The shard's advance time the step was judged with (`Some("")`: none yet), checked.
    pub(super) advance_check: Option<String>,
    /// T: the pending ids due by T must be exactly `pending_rems`, in the index's order (what
    /// an advance read and judged; its reads are two round trips, so this is checked here).
    pub(super) due_check: Option<u64>,
}

impl Step<'_> {
    /// The script call on `shard`.
    pub(super) fn command(
        &self,
        store: &RedisStore,
        shard: u32,
        flips: &[(u64, Transition)],
        full_script: bool,
    ) -> Cmd {
        let args = 19
            + 5 * self.clients.len()
            + 3 * self.ops.len()
            + 2 * flips.len()
            + 2 * (self.pending_adds.len() + self.seen_adds.len())
            + self.pending_rems.len()
            + self.seen_rems.len();
        // Sized up front: growing a command of a few hundred KB by doubling copied it repeatedly.
        let bytes: usize = STEP.len()
            + self.clients.iter().map(|x| 2 * x[0].len() + x[1].len() + x[2].len() + 8).sum::<usize>()
            + flips.iter().map(|(_, t)| 2 * t.client_id.len() + 48).sum::<usize>()
            + self.seen_adds.iter().map(|(_, id)| id.len() + 24).sum::<usize>()
            + 32 * (self.ops.len() + self.pending_adds.len() + self.pending_rems.len());
        let mut c = Cmd::with_capacity(args, bytes);
        if full_script {
            c.arg("EVAL").arg(STEP);
        } else {
            c.arg("EVALSHA").arg(step_sha());
        }
        c.arg(6);
        for kind in ["r", "o", "n", "f", "p", "l"] {
            c.arg(store.key(shard, kind));
        }
        c.arg(self.clients.len()).arg(self.ops.len()).arg(flips.len()).arg(store.feed_maxlen);
        c.arg(self.online_adds.len()).arg(self.online_rems.len());
        c.arg(self.advance_check.as_deref().unwrap_or("-"));
        c.arg(self.pending_adds.len()).arg(self.pending_rems.len());
        c.arg(self.seen_adds.len()).arg(self.seen_rems.len());
        match self.due_check {
            Some(t) => c.arg(t),
            None => c.arg("-"),
        };
        for cl in &self.clients {
            c.arg(cl[0]);
        }
        for cl in &self.clients {
            c.arg(cl[1]);
        }
        for cl in &self.clients {
            c.arg(cl[0]).arg(cl[2]);
        }
        for id in &self.online_adds {
            c.arg("0").arg(*id);
        }
        c.arg(&self.online_rems);
        for (score, id) in &self.pending_adds {
            c.arg(*score).arg(*id);
        }
        c.arg(&self.pending_rems);
        for (score, id) in &self.seen_adds {
            c.arg(*score).arg(*id);
        }
        c.arg(&self.seen_rems);
        for (op, field, v) in &self.ops {
            c.arg(*op).arg(field).arg(v.to_string());
        }
        for (_, t) in flips {
            c.arg(&t.client_id).arg(feed_value(t));
        }
        c
    }
}

/// A transition as a feed value (the client id is the field): `online,eventType,time,channelId`,
/// the time followed by `:offlineSince` on a reconnect that ends an unreported offline (the
/// channel id last, so it may hold commas).
pub(super) fn feed_value(t: &Transition) -> String {
    // Built by hand: `format!` cost ~2 000 instructions a flip (callgrind).
    let mut v = String::with_capacity(40 + t.channel_id.len());
    v.push_str(if t.online { "1," } else { "0," });
    v.push_str(t.event_type.as_str());
    v.push(',');
    push_number(&mut v, t.time);
    if let Some(since) = t.offline_since {
        v.push(':');
        push_number(&mut v, since);
    }
    v.push(',');
    v.push_str(&t.channel_id);
    v
}

fn push_number(v: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    v.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}
