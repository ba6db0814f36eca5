//! Read-only queries. Outputs are sorted by clientId (groups by groupId, channels by channelId).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Ref;

use crate::client::Opening;
use crate::{ClientStatus, GroupCount, Stats, StatusEngine};

impl StatusEngine {
    /// Whether the client has an open channel now (an unknown client is offline).
    pub fn is_online(&self, client_id: &str) -> bool {
        self.find_client(client_id).is_some_and(|i| self.clients[i as usize].online)
    }

    /// Everything known about a client, or `None` if it was never seen.
    pub fn client(&self, client_id: &str) -> Option<ClientStatus> {
        let idx = self.find_client(client_id)?;
        let c = &self.clients[idx as usize];
        let chans = c.channels.as_slice();
        let opening = Opening::new(chans, &self.config, c.obs_off());
        let status = |ch: &crate::channel::Channel| ch.status(&self.config, c.obs_off(), opening.open(ch));
        let mut channels: Vec<_> = chans.iter().map(status).collect();
        channels.sort_by(|a, b| a.channel_id.cmp(&b.channel_id));
        let (group_id, device_id) = match client_id.split_once("@@@") {
            Some((g, d)) => (Some(String::from(g)), String::from(d)),
            None => (None, String::from(client_id)),
        };
        Some(ClientStatus {
            client_id: String::from(client_id),
            group_id,
            device_id,
            online: c.online,
            last_event_time: c.last_event_time(),
            last_ip: c.last_ip().map(crate::ids::IpRef::to_text),
            connects: c.connects(),
            horizon: c.horizon(),
            channels,
            pending_offline_since: Some(self.pending_of(idx)).filter(|&t| t != crate::channel::NONE),
        })
    }

    /// Client indices sorted by id (the lazily extended order cache).
    pub(crate) fn sorted(&self) -> Ref<'_, Vec<u32>> {
        let covered = self.order.borrow().len();
        if covered < self.clients.len() {
            let mut tail: Vec<u32> = (covered as u32..self.clients.len() as u32).collect();
            tail.sort_unstable_by(|&a, &b| self.id_bytes(a).cmp(self.id_bytes(b)));
            let mut order = self.order.borrow_mut();
            let head = core::mem::take(&mut *order);
            let mut merged = Vec::with_capacity(head.len() + tail.len());
            let (mut i, mut j) = (0, 0);
            while i < head.len() && j < tail.len() {
                if self.id_bytes(head[i]) <= self.id_bytes(tail[j]) {
                    merged.push(head[i]);
                    i += 1;
                } else {
                    merged.push(tail[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&head[i..]);
            merged.extend_from_slice(&tail[j..]);
            *order = merged;
        }
        self.order.borrow()
    }

    /// Online client ids, sorted; `group` filters, `after` is the exclusive cursor (the last id
    /// of the previous page) and `limit` the page size.
    pub fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<String> {
        let group = match group {
            Some(g) => match self.find_group(g) {
                Some(g) => Some(g),
                None => return Vec::new(),
            },
            None => None,
        };
        let limit = limit.unwrap_or(usize::MAX);
        let order = self.sorted();
        let start = after.map_or(0, |a| order.partition_point(|&i| self.id_bytes(i) <= a.as_bytes()));
        order[start..]
            .iter()
            .filter(|&&i| {
                let c = &self.clients[i as usize];
                group.is_none_or(|g| c.group == g) && c.online
            })
            .take(limit)
            .map(|&i| String::from(self.client_id(i)))
            .collect()
    }

    /// Number of online clients, in all or in one group.
    pub fn count_online(&self, group: Option<&str>) -> u64 {
        match group {
            None => self.online,
            Some(g) => self.find_group(g).map_or(0, |g| self.groups[g as usize].online),
        }
    }

    /// Every group seen, sorted by groupId (ids without `@@@` belong to none).
    pub fn groups(&self) -> Vec<GroupCount> {
        let mut out: Vec<GroupCount> = (0..self.groups.len() as u32)
            .map(|g| GroupCount {
                group_id: String::from(self.group_name(g)),
                online: self.groups[g as usize].online,
                known: self.groups[g as usize].known,
            })
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    /// Counters and gauges (see [`Stats`]).
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let mut s = Stats {
            events: c.events,
            applied: c.applied,
            duplicates: c.duplicates,
            late: c.late,
            rejected: c.rejected,
            clients: self.clients.len() as u64,
            online: self.online,
            went_online: c.went_online,
            went_offline: c.went_offline,
            pending_offline: (self.config.offline_grace_ms > 0).then_some(self.pending_count),
            ..Stats::default()
        };
        for client in &self.clients {
            let total = client.channels.as_slice().len() as u64;
            let tombs = client.tombstones(&self.config) as u64;
            s.open_channels += total - tombs;
            s.tombstones += tombs;
            s.max_time = s.max_time.max(client.last_event_time());
        }
        s
    }
}
