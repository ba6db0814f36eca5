"""The answer classes: frozen dataclasses whose camelCase JSON form is derived from their field
names. Re-exported by ``mqtt_status`` (their ``__module__`` says so, for reprs and pickles)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Dict, FrozenSet, Literal, Mapping, Optional, Tuple, Type, TypeVar

from ._native import Transition

if TYPE_CHECKING:  # type checkers only (the annotations are never evaluated at runtime)
    from . import _native

    _ChannelState = Literal["open", "closed", "superseded"]


def _camel(name: str) -> str:
    """``open_channels`` -> ``openChannels``: the JSON API's key of a field."""
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


_KEYS: Dict[type, Tuple[Tuple[str, str], ...]] = {}


def _keys(cls: type) -> Tuple[Tuple[str, str], ...]:
    """``(field, JSON key)`` of each field of an answer class, in declaration order."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = _KEYS[cls] = tuple((f.name, _camel(f.name)) for f in fields(cls))
    return keys


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


_A = TypeVar("_A", bound="_Answer")


class _Answer:
    """Base of the answer dataclasses: the camelCase JSON form of each is derived from its field
    names (``open_channels`` <-> ``openChannels``), so a field is declared once, in its class.

    ``_OPTIONAL`` names the fields whose key the JSON API leaves out when they are ``None`` (the
    grace fields of SPEC §9: absent with no grace, and a channel's close reason: absent when
    there is none, so those answers are what they always were)."""

    __slots__ = ()
    _OPTIONAL: ClassVar[FrozenSet[str]] = frozenset()

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        omit = self._OPTIONAL
        return {
            key: _plain(value)
            for name, key in _keys(type(self))
            for value in (getattr(self, name),)
            if value is not None or name not in omit
        }

    @classmethod
    def _from_json(cls: Type[_A], d: Mapping[str, Any]) -> _A:
        return cls(*(d.get(key) if name in cls._OPTIONAL else d[key] for name, key in _keys(cls)))


@dataclass(frozen=True)
class ChannelStatus(_Answer):
    """One row of a client's channel table (``state``: open, closed or superseded)."""

    channel_id: str
    state: _ChannelState
    connect_time: Optional[int]
    disconnect_time: Optional[int]
    close_time: Optional[int]
    client_ip: Optional[str]
    reason: Optional[str] = None
    """Why the channel closed, if its close carried a reason (AWS ``disconnectReason``, EMQX
    ``reason``, Azure ``disconnectionReason``); else ``None``, and absent from ``to_dict()``."""

    _OPTIONAL: ClassVar[FrozenSet[str]] = frozenset({"reason"})


@dataclass(frozen=True)
class ClientStatus(_Answer):
    """Everything the engine knows about one client."""

    client_id: str
    group_id: Optional[str]
    device_id: str
    online: bool
    last_event_time: Optional[int]
    last_ip: Optional[str]
    connects: int
    horizon: Optional[int]
    channels: Tuple[ChannelStatus, ...]
    pending_offline_since: Optional[int] = None
    """With ``offline_grace_ms``: while the client's offline is pending (offline, not yet
    confirmed; still reported online), the time it went offline; else ``None``."""

    _OPTIONAL: ClassVar[FrozenSet[str]] = frozenset({"pending_offline_since"})

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "ClientStatus":
        channels = tuple(ChannelStatus._from_json(c) for c in d["channels"])
        return super()._from_json({**d, "channels": channels})


@dataclass(frozen=True)
class GroupCount(_Answer):
    """Online and known client counts of one group."""

    group_id: str
    online: int
    known: int


@dataclass(frozen=True)
class Stats(_Answer):
    """Engine-wide counters (what this instance was fed) and gauges (the state)."""

    events: int
    applied: int
    duplicates: int
    late: int
    rejected: int
    clients: int
    online: int
    open_channels: int
    tombstones: int
    went_online: int
    went_offline: int
    max_time: Optional[int]
    pending_offline: Optional[int] = None
    """With ``offline_grace_ms``: clients whose offline is pending (``None`` with no grace)."""

    _OPTIONAL: ClassVar[FrozenSet[str]] = frozenset({"pending_offline"})


@dataclass(frozen=True)
class StaleClient(_Answer):
    """An online client with no sign of life for a while (:meth:`StatusEngine.stale_online`):
    worth asking the broker's query API about."""

    client_id: str
    last_seen: int
    """Its latest event or observation time."""


@dataclass(frozen=True)
class BatchError(_Answer):
    """One rejected item of a batch (``index`` is 0-based; for JSONL, the line)."""

    index: int
    code: str
    field: Optional[str]
    message: str


@dataclass(frozen=True)
class BatchReport(_Answer):
    """Result of a batch: every good item applied, every bad one counted in ``rejected``; the
    first 1000 of them (in input order) are described in ``errors``."""

    applied: int
    duplicates: int
    late: int
    rejected: int
    errors: Tuple[BatchError, ...]
    transitions: Tuple[Transition, ...]

    @classmethod
    def _from_native(cls, r: "_native._ReportTuple") -> "BatchReport":
        applied, duplicates, late, rejected, errors, transitions = r
        return cls(applied, duplicates, late, rejected, tuple(BatchError(*e) for e in errors), transitions)


@dataclass(frozen=True)
class FeedEntry:
    """One flip recorded in a store's transition feed; ``cursor`` is the position just after it."""

    cursor: str
    transition: Transition


@dataclass(frozen=True)
class FeedPage:
    """A page of the transition feed: ``entries`` oldest first, ``next`` the cursor to pass as
    ``after`` for the following page (unchanged when there was nothing new)."""

    entries: Tuple[FeedEntry, ...]
    next: str


for _cls in (ChannelStatus, ClientStatus, GroupCount, Stats, StaleClient, BatchError, BatchReport, FeedEntry, FeedPage):
    _cls.__module__ = "mqtt_status"
