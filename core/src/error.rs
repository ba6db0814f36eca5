//! The typed error every fallible operation returns.
//!
//! Each variant has a stable [`ErrorCode`] string shared by every language binding, and names the
//! field at fault where there is one. Nothing in the engine changes when an error is returned.

use alloc::string::String;

/// The stable error codes of SPEC §1 (identical strings in every language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The input is not JSON, not UTF-8, nested too deep, or not a JSON object.
    InvalidJson,
    /// A required field is absent (or `null`).
    MissingField,
    /// A field has the wrong type, is empty, too long, out of range or repeated.
    InvalidField,
    /// `eventType` or the tag is not `connect`, `disconnect` or `tcpclean`.
    UnknownEventType,
    /// The tag and the body's `eventType` disagree.
    TagMismatch,
    /// Snapshot bytes are corrupt, truncated, of another version or not a snapshot at all.
    InvalidSnapshot,
    /// Two engines with different configurations cannot be merged.
    ConfigMismatch,
    /// A status store's backend is unreachable, timed out, refused or failed to write.
    StoreUnavailable,
    /// A file status store is held by another process.
    StoreLocked,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::InvalidJson,
        ErrorCode::MissingField,
        ErrorCode::InvalidField,
        ErrorCode::UnknownEventType,
        ErrorCode::TagMismatch,
        ErrorCode::InvalidSnapshot,
        ErrorCode::ConfigMismatch,
        ErrorCode::StoreUnavailable,
        ErrorCode::StoreLocked,
    ];

    /// The code as the stable snake_case string used by every binding (`"invalid_json"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnknownEventType => "unknown_event_type",
            ErrorCode::TagMismatch => "tag_mismatch",
            ErrorCode::InvalidSnapshot => "invalid_snapshot",
            ErrorCode::ConfigMismatch => "config_mismatch",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::StoreLocked => "store_locked",
        }
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input was rejected. Carries a code, the field at fault (if any) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// See [`ErrorCode::InvalidJson`].
    #[error("invalid JSON: {reason}")]
    InvalidJson {
        /// What the parser found.
        reason: String,
    },
    /// See [`ErrorCode::MissingField`].
    #[error("missing field `{field}`")]
    MissingField {
        /// The absent field.
        field: &'static str,
    },
    /// See [`ErrorCode::InvalidField`].
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// See [`ErrorCode::UnknownEventType`].
    #[error("unknown event type {value:?} in `{field}` (expected connect, disconnect or tcpclean)")]
    UnknownEventType {
        /// `eventType` or `tag`.
        field: &'static str,
        /// The value seen (truncated to 64 bytes).
        value: String,
    },
    /// See [`ErrorCode::TagMismatch`].
    #[error("tag {tag:?} disagrees with eventType {event_type:?}")]
    TagMismatch {
        /// The message tag.
        tag: String,
        /// The body's `eventType`.
        event_type: String,
    },
    /// See [`ErrorCode::InvalidSnapshot`].
    #[error("invalid snapshot: {reason}")]
    InvalidSnapshot {
        /// What is wrong with the bytes.
        reason: String,
    },
    /// See [`ErrorCode::ConfigMismatch`].
    #[error("cannot merge engines with different configurations: {reason}")]
    ConfigMismatch {
        /// Which option differs.
        reason: String,
    },
    /// See [`ErrorCode::StoreUnavailable`].
    #[error("status store unavailable: {reason}")]
    StoreUnavailable {
        /// What failed (unreachable, timed out, refused, I/O error).
        reason: String,
    },
    /// See [`ErrorCode::StoreLocked`].
    #[error("status store locked: {reason}")]
    StoreLocked {
        /// Which store, and who holds it if known.
        reason: String,
    },
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidJson { .. } => ErrorCode::InvalidJson,
            Error::MissingField { .. } => ErrorCode::MissingField,
            Error::InvalidField { .. } => ErrorCode::InvalidField,
            Error::UnknownEventType { .. } => ErrorCode::UnknownEventType,
            Error::TagMismatch { .. } => ErrorCode::TagMismatch,
            Error::InvalidSnapshot { .. } => ErrorCode::InvalidSnapshot,
            Error::ConfigMismatch { .. } => ErrorCode::ConfigMismatch,
            Error::StoreUnavailable { .. } => ErrorCode::StoreUnavailable,
            Error::StoreLocked { .. } => ErrorCode::StoreLocked,
        }
    }

    /// The input field at fault (`clientId`, `channelId`, `eventType`, `time`, `clientIp`, `tag`,
    /// `body`), or `None` when no single field is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::MissingField { field }
            | Error::InvalidField { field, .. }
            | Error::UnknownEventType { field, .. } => Some(field),
            Error::TagMismatch { .. } => Some("tag"),
            Error::InvalidJson { .. }
            | Error::InvalidSnapshot { .. }
            | Error::ConfigMismatch { .. }
            | Error::StoreUnavailable { .. }
            | Error::StoreLocked { .. } => None,
        }
    }

    /// The error for an input a host could not serialize to JSON at all (`toJSON` throwing, a
    /// `BigInt`, a cycle, a dict of sets): rejected as `invalid_json` with the host's reason.
    pub fn unserializable(reason: &str) -> Self {
        Error::InvalidJson { reason: alloc::format!("the value cannot be serialized to JSON: {reason}") }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidField { field, reason: reason.into() }
    }

    pub(crate) fn snapshot(reason: impl Into<String>) -> Self {
        Error::InvalidSnapshot { reason: reason.into() }
    }
}
