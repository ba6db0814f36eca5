//! A close's reason (AWS `disconnectReason`, EMQX `reason`, Azure `disconnectionReason`) as a
//! channel keeps it: none, one of the vendors' documented codes (one byte, an index into
//! [`KNOWN`]), or any other text (boxed by the channel, `channel.rs`).
//!
//! The codes are one table for every engine rather than a table per engine: a channel's form
//! then depends on its reason alone, never on which reasons an engine saw first, so equal
//! channels stay equal values, a merge or a clone copies channels without translating indices,
//! and a flood of made-up reasons cannot fill a table and change how later ones are kept (each
//! costs its own channel at most `max_id_len` bytes, like a channel id that is not a broker's).

/// The documented reason codes, sorted bytewise (so two codes compare as their indices do).
/// Only memory depends on this list (snapshots and records write the text): adding a code
/// later changes no stored byte.
pub(crate) const KNOWN: [&str; 41] = [
    // AWS IoT Core, "Lifecycle events": `disconnectReason`.
    "API_INITIATED_DISCONNECT",
    "AUTH_ERROR",
    "CLIENT_ERROR",
    "CLIENT_INITIATED_DISCONNECT",
    "CONNECTION_LOST",
    "CUSTOMAUTH_TTL_EXPIRATION",
    // Azure Event Grid MQTT broker, "MQTT Clients Life Cycle Events": `disconnectionReason`.
    "ClientAuthenticationError",
    "ClientAuthorizationError",
    "ClientError",
    "ClientInitiatedDisconnect",
    "ConnectionLost",
    "DUPLICATE_CLIENTID",
    "FORBIDDEN_ACCESS",
    "IpForbidden",
    "MQTT_KEEP_ALIVE_TIMEOUT",
    "QuotaExceeded",
    "SERVER_ERROR",
    "SERVER_INITIATED_DISCONNECT",
    "ServerError",
    "ServerInitiatedDisconnect",
    "SessionOverflow",
    "SessionTakenOver",
    "THROTTLED",
    "WEBSOCKET_TTL_EXPIRATION",
    // EMQX, "Client disconnect reasons" (rule-engine `reason`, `$SYS` messages).
    "discarded",
    "frame_too_large",
    "idle_timeout",
    "internal_error",
    "keepalive_timeout",
    "kicked",
    "normal",
    "not_authorized",
    "protocol_error",
    "receive_maximum_exceeded",
    "sock_closed",
    "ssl_closed",
    "ssl_error",
    "takenover",
    "tcp_closed",
    "unknown",
    "use_another_server",
];

/// A reason not among [`KNOWN`]: its text is in the channel's box.
pub(crate) const TEXT: u8 = u8::MAX;

/// The one-byte code of `reason`: 0 for none (or empty), `i + 1` for `KNOWN[i]`, [`TEXT`]
/// otherwise. A match on the bytes, which the compiler dispatches on the length and then
/// compares as integers (a binary search over [`KNOWN`] cost ~300 instructions a close in
/// string comparisons); a unit test checks it against [`KNOWN`].
#[inline]
pub(crate) fn code(reason: Option<&str>) -> u8 {
    let Some(r) = reason else { return 0 };
    match r.as_bytes() {
        b"" => 0,
        b"API_INITIATED_DISCONNECT" => 1,
        b"AUTH_ERROR" => 2,
        b"CLIENT_ERROR" => 3,
        b"CLIENT_INITIATED_DISCONNECT" => 4,
        b"CONNECTION_LOST" => 5,
        b"CUSTOMAUTH_TTL_EXPIRATION" => 6,
        b"ClientAuthenticationError" => 7,
        b"ClientAuthorizationError" => 8,
        b"ClientError" => 9,
        b"ClientInitiatedDisconnect" => 10,
        b"ConnectionLost" => 11,
        b"DUPLICATE_CLIENTID" => 12,
        b"FORBIDDEN_ACCESS" => 13,
        b"IpForbidden" => 14,
        b"MQTT_KEEP_ALIVE_TIMEOUT" => 15,
        b"QuotaExceeded" => 16,
        b"SERVER_ERROR" => 17,
        b"SERVER_INITIATED_DISCONNECT" => 18,
        b"ServerError" => 19,
        b"ServerInitiatedDisconnect" => 20,
        b"SessionOverflow" => 21,
        b"SessionTakenOver" => 22,
        b"THROTTLED" => 23,
        b"WEBSOCKET_TTL_EXPIRATION" => 24,
        b"discarded" => 25,
        b"frame_too_large" => 26,
        b"idle_timeout" => 27,
        b"internal_error" => 28,
        b"keepalive_timeout" => 29,
        b"kicked" => 30,
        b"normal" => 31,
        b"not_authorized" => 32,
        b"protocol_error" => 33,
        b"receive_maximum_exceeded" => 34,
        b"sock_closed" => 35,
        b"ssl_closed" => 36,
        b"ssl_error" => 37,
        b"takenover" => 38,
        b"tcp_closed" => 39,
        b"unknown" => 40,
        b"use_another_server" => 41,
        _ => TEXT,
    }
}

/// The text of a known code (`None` for 0 and [`TEXT`]).
#[inline]
pub(crate) fn known(code: u8) -> Option<&'static str> {
    KNOWN.get(usize::from(code).wrapping_sub(1)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_fit_a_byte() {
        assert!(KNOWN.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        assert!(KNOWN.len() < usize::from(TEXT));
        for (i, r) in KNOWN.iter().enumerate() {
            assert_eq!(code(Some(r)), i as u8 + 1);
            assert_eq!(known(code(Some(r))), Some(*r));
        }
        assert_eq!((code(None), code(Some("")), code(Some("x"))), (0, 0, TEXT));
        for other in ["normal ", "Normal", "takenove", "CLIENT_ERRORS", "use_another_serve"] {
            assert_eq!(code(Some(other)), TEXT, "{other}");
        }
        assert_eq!((known(0), known(TEXT)), (None, None));
    }
}
