"""The exception hierarchy. The native module maps each core error code to one class here."""

from __future__ import annotations

from typing import Optional

__all__ = [
    "StatusError",
    "InvalidNotification",
    "InvalidJson",
    "MissingField",
    "InvalidField",
    "UnknownEventType",
    "TagMismatch",
    "InvalidSnapshot",
    "ConfigMismatch",
    "StoreUnavailable",
    "StoreLocked",
    "StoreClosed",
]


class StatusError(ValueError):
    """Base of every error the engine raises.

    ``code`` is the stable snake_case code shared by every language binding; ``field`` names
    the input field at fault (``"clientId"``, ``"time"``, ``"tag"``, …) or is ``None``.
    """

    code: str
    field: Optional[str]

    def __init__(self, message: str, code: Optional[str] = None, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code if code is not None else _DEFAULT_CODES.get(type(self), "")
        self.field = field

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (str(self), self.code, self.field))


class InvalidNotification(StatusError):
    """A notification (body or envelope) was rejected; nothing changed."""


class InvalidJson(InvalidNotification):
    """Not JSON, not UTF-8, nested too deep, trailing data, or not an object (``invalid_json``)."""


class MissingField(InvalidNotification):
    """A required field is absent or null (``missing_field``)."""


class InvalidField(InvalidNotification):
    """A field has the wrong type, is empty, too long or out of range (``invalid_field``).

    Also raised for a bad ``StatusEngine`` option.
    """


class UnknownEventType(InvalidNotification):
    """``eventType`` or the tag is not connect, disconnect or tcpclean (``unknown_event_type``)."""


class TagMismatch(InvalidNotification):
    """The message tag and the body's ``eventType`` disagree (``tag_mismatch``)."""


class InvalidSnapshot(StatusError):
    """Snapshot bytes are corrupt, truncated, of another version, or not a snapshot."""


class ConfigMismatch(StatusError):
    """Two engines with different configurations cannot be merged."""


class StoreUnavailable(StatusError):
    """A status store's backend is unreachable, timed out, refused or failed to write."""


class StoreLocked(StatusError):
    """A file status store is held by another process."""


class StoreClosed(StatusError):
    """A call on a ``StatusStore`` handle after ``close()`` (code ``store_closed``): a usage
    error of the Python object, not one of the core's codes (like JavaScript's ``engine_freed``),
    so it is not a :class:`StoreUnavailable` a consumer would retry."""

    def __init__(self, message: str = "the StatusStore is closed", code: Optional[str] = None,
                 field: Optional[str] = None) -> None:
        super().__init__(message, code if code is not None else "store_closed", field)


_DEFAULT_CODES = {
    InvalidJson: "invalid_json",
    MissingField: "missing_field",
    InvalidField: "invalid_field",
    UnknownEventType: "unknown_event_type",
    TagMismatch: "tag_mismatch",
    InvalidSnapshot: "invalid_snapshot",
    ConfigMismatch: "config_mismatch",
    StoreUnavailable: "store_unavailable",
    StoreLocked: "store_locked",
}

# Shown (and pickled) as `mqtt_status.X`, where users import them from.
for _cls in (StatusError, InvalidNotification, StoreClosed, *_DEFAULT_CODES):
    _cls.__module__ = "mqtt_status"
del _cls
