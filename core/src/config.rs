//! Engine configuration: the policies of SPEC §2.

use serde::{Deserialize, Serialize};

/// How the engine judges channels. The defaults reproduce the broker documentation's rule.
///
/// Serialized with camelCase keys (`closeOnDisconnect`, …) as in every binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Config {
    /// A `disconnect` closes its channel as well as a `tcpclean` (default `false`).
    pub close_on_disconnect: bool,
    /// A newer `connect` (by event time, ties by channelId) of the same client closes its other
    /// channels: the broker allows one connection per clientId (default `false`).
    pub takeover: bool,
    /// Closed channels remembered per client to absorb redeliveries (default 8).
    pub tombstones_per_client: u32,
    /// Longest accepted `clientId` / `channelId`, in bytes (default 256, at most 65535).
    pub max_id_len: u32,
    /// Most channels of one client that can be open at once: a channel is open only if its
    /// connect is among the client's this-many newest (by event time, ties by channelId); older
    /// ones without a close are superseded (default 8, 1 to 1024; `takeover` is the case 1).
    pub max_open_channels: u32,
    /// Which broker's notification format is read (default `aliyun`; SPEC §10,
    /// `docs/sources.md`). How lines are read, not what is judged: not in the snapshot.
    /// Serialized only when not the default, so configurations written before it are unchanged.
    #[serde(skip_serializing_if = "crate::Source::is_default")]
    pub source: crate::Source,
    /// Flap suppression (SPEC §9, `docs/semantics.md`): a client that goes offline stays
    /// *reported* online (a pending offline) until the host's [`advance`] or one of its own
    /// later events passes its close time by this many milliseconds; a reconnect before then
    /// gives no transitions at all. 0 (the default) turns it off; at most [`MAX_GRACE_MS`].
    /// Serialized only when not 0, so configurations written before it are unchanged.
    ///
    /// [`advance`]: crate::StatusEngine::advance
    #[serde(skip_serializing_if = "is_zero")]
    pub offline_grace_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Largest accepted `offline_grace_ms`: 7 days. A grace is meant to outlast a reconnect (seconds
/// to minutes); beyond a week it would hide real outages, and the bound keeps `close + grace`
/// far from overflowing.
pub const MAX_GRACE_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Largest accepted `max_id_len`: ids are stored with 16-bit lengths.
pub const MAX_ID_LEN_LIMIT: u32 = u16::MAX as u32;

/// Largest accepted `tombstones_per_client` (memory per client stays small and bounded).
pub const MAX_TOMBSTONES_LIMIT: u32 = 1024;

/// Largest accepted `max_open_channels` (a client's channels, and so the work per event, stay
/// bounded).
pub const MAX_OPEN_CHANNELS_LIMIT: u32 = 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            close_on_disconnect: false,
            takeover: false,
            tombstones_per_client: 8,
            max_id_len: 256,
            max_open_channels: 8,
            source: crate::Source::Aliyun,
            offline_grace_ms: 0,
        }
    }
}

impl Config {
    /// Checks the limits; bindings call this so a bad option is an `invalid_field` error.
    pub fn validate(&self) -> Result<(), crate::Error> {
        if self.max_id_len == 0 || self.max_id_len > MAX_ID_LEN_LIMIT {
            return Err(crate::Error::invalid("maxIdLen", "must be between 1 and 65535"));
        }
        if self.tombstones_per_client > MAX_TOMBSTONES_LIMIT {
            return Err(crate::Error::invalid("tombstonesPerClient", "must be between 0 and 1024"));
        }
        if self.max_open_channels == 0 || self.max_open_channels > MAX_OPEN_CHANNELS_LIMIT {
            return Err(crate::Error::invalid("maxOpenChannels", "must be between 1 and 1024"));
        }
        if self.offline_grace_ms > MAX_GRACE_MS {
            return Err(crate::Error::invalid("offlineGraceMs", "must be between 0 and 604800000 (7 days)"));
        }
        Ok(())
    }
}
