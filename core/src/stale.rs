//! Staleness (SPEC §9): the online clients worth verifying with the broker's query API.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{StaleClient, StatusEngine};

impl StatusEngine {
    /// Clients judged online (exactly) whose last sign of life — their latest event or
    /// observation — is older than `now_ms - older_than_ms`: oldest first, ties by clientId, at
    /// most `limit` of them. The few worth asking the rate-limited `QuerySessionByClientId`
    /// about; an online observation of the answer counts as a sign of life, so a verified
    /// client drops out of the next answer. Reads no clock: the host supplies `now_ms`.
    pub fn stale_online(&self, older_than_ms: u64, now_ms: u64, limit: usize) -> Vec<StaleClient> {
        let cutoff = now_ms.saturating_sub(older_than_ms);
        let mut stale: Vec<(u64, &str)> = (0..self.clients.len() as u32)
            .filter(|&i| self.clients[i as usize].online)
            .filter_map(|i| {
                let seen = self.clients[i as usize].last_event_time().unwrap_or(0);
                (seen < cutoff).then(|| (seen, self.client_id(i)))
            })
            .collect();
        // Only the `limit` oldest are sorted: a large fleet's answer stays a partial selection.
        if stale.len() > limit {
            if limit == 0 {
                return Vec::new();
            }
            stale.select_nth_unstable(limit - 1);
            stale.truncate(limit);
        }
        stale.sort_unstable();
        stale
            .into_iter()
            .map(|(last_seen, id)| StaleClient { client_id: String::from(id), last_seen })
            .collect()
    }

    /// The client's last sign of life (the latest time of its events and observations), as
    /// [`stale_online`](Self::stale_online) orders clients; `None` for an unknown client. For
    /// stores that keep an index of online clients by it.
    pub fn last_seen(&self, client_id: &str) -> Option<u64> {
        self.find_client(client_id).and_then(|i| self.clients[i as usize].last_event_time())
    }
}
