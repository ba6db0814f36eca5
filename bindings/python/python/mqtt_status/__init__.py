"""Is this MQTT device online? Presence from ApsaraMQ for MQTT status notifications.

A thin layer over the Rust core (``mqtt_status._native``): it converts inputs and wraps the
core's answers into frozen dataclasses (``Transition`` is a native class, built by the
extension: a batch can return hundreds of thousands). Every judgment is the core's, so the
answers are the same as the Rust, JavaScript and command-line ones. See ``docs/python.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _native
from ._native import Transition
from ._errors import (
    ConfigMismatch,
    InvalidField,
    InvalidJson,
    InvalidNotification,
    InvalidSnapshot,
    MissingField,
    StatusError,
    StoreLocked,
    StoreUnavailable,
    TagMismatch,
    UnknownEventType,
)

__version__: str = _native.__version__
SNAPSHOT_VERSION: int = _native.SNAPSHOT_VERSION

__all__ = [
    "StatusEngine",
    "StatusStore",
    "FeedEntry",
    "FeedPage",
    "Transition",
    "ChannelStatus",
    "ClientStatus",
    "GroupCount",
    "Stats",
    "BatchError",
    "BatchReport",
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
    "SNAPSHOT_VERSION",
    "__version__",
]

Body = Union[str, bytes, bytearray, memoryview, Mapping[str, Any]]


def _dumps(obj: Mapping[str, Any]) -> str:
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as e:
        # Not the wire's fault: the caller passed a dict that JSON cannot hold.
        raise TypeError(f"body dict is not JSON-serializable: {e}") from None


def _body(item: Any) -> Any:
    if isinstance(item, Mapping):
        return _dumps(item)
    return item


@dataclass(frozen=True)
class ChannelStatus:
    """One row of a client's channel table (``state``: open, closed or superseded)."""

    channel_id: str
    state: str
    connect_time: Optional[int]
    disconnect_time: Optional[int]
    close_time: Optional[int]
    client_ip: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {
            "channelId": self.channel_id,
            "state": self.state,
            "connectTime": self.connect_time,
            "disconnectTime": self.disconnect_time,
            "closeTime": self.close_time,
            "clientIp": self.client_ip,
        }

    @classmethod
    def _from_json(cls, d: Dict[str, Any]) -> "ChannelStatus":
        return cls(
            d["channelId"], d["state"], d["connectTime"], d["disconnectTime"], d["closeTime"], d["clientIp"]
        )


@dataclass(frozen=True)
class ClientStatus:
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

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {
            "clientId": self.client_id,
            "groupId": self.group_id,
            "deviceId": self.device_id,
            "online": self.online,
            "lastEventTime": self.last_event_time,
            "lastIp": self.last_ip,
            "connects": self.connects,
            "horizon": self.horizon,
            "channels": [c.to_dict() for c in self.channels],
        }

    @classmethod
    def _from_json(cls, d: Dict[str, Any]) -> "ClientStatus":
        return cls(
            d["clientId"],
            d["groupId"],
            d["deviceId"],
            d["online"],
            d["lastEventTime"],
            d["lastIp"],
            d["connects"],
            d["horizon"],
            tuple(ChannelStatus._from_json(c) for c in d["channels"]),
        )


@dataclass(frozen=True)
class GroupCount:
    """Online and known client counts of one group."""

    group_id: str
    online: int
    known: int

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {"groupId": self.group_id, "online": self.online, "known": self.known}


@dataclass(frozen=True)
class Stats:
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

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {
            "events": self.events,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "late": self.late,
            "rejected": self.rejected,
            "clients": self.clients,
            "online": self.online,
            "openChannels": self.open_channels,
            "tombstones": self.tombstones,
            "wentOnline": self.went_online,
            "wentOffline": self.went_offline,
            "maxTime": self.max_time,
        }

    @classmethod
    def _from_json(cls, d: Dict[str, Any]) -> "Stats":
        return cls(
            d["events"],
            d["applied"],
            d["duplicates"],
            d["late"],
            d["rejected"],
            d["clients"],
            d["online"],
            d["openChannels"],
            d["tombstones"],
            d["wentOnline"],
            d["wentOffline"],
            d["maxTime"],
        )


@dataclass(frozen=True)
class BatchError:
    """One rejected item of a batch (``index`` is 0-based; for JSONL, the line)."""

    index: int
    code: str
    field: Optional[str]
    message: str

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {"index": self.index, "code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class BatchReport:
    """Result of a batch: every good item applied, every bad one counted in ``rejected``; the
    first 1000 of them (in input order) are described in ``errors``."""

    applied: int
    duplicates: int
    late: int
    rejected: int
    errors: Tuple[BatchError, ...]
    transitions: Tuple[Transition, ...]

    def to_dict(self) -> Dict[str, Any]:
        """The camelCase dict of the JSON API."""
        return {
            "applied": self.applied,
            "duplicates": self.duplicates,
            "late": self.late,
            "rejected": self.rejected,
            "errors": [e.to_dict() for e in self.errors],
            "transitions": [t.to_dict() for t in self.transitions],
        }

    @classmethod
    def _from_native(cls, r: "_native._ReportTuple") -> "BatchReport":
        applied, duplicates, late, rejected, errors, transitions = r
        return cls(applied, duplicates, late, rejected, tuple(BatchError(*e) for e in errors), transitions)


def _config_dict(native: Tuple[bool, bool, int, int, int, str]) -> Dict[str, Any]:
    """A native configuration tuple as the keyword arguments of the constructor / ``open``."""
    c, t, n, m, o, s = native
    return {
        "close_on_disconnect": c,
        "takeover": t,
        "tombstones_per_client": n,
        "max_id_len": m,
        "max_open_channels": o,
        "source": s,
    }


class StatusEngine:
    """The presence engine. Thread-safe: one engine may be shared by threads.

    Options (keyword-only): ``close_on_disconnect`` (a ``disconnect`` closes its channel),
    ``takeover`` (only a client's newest connect can be open), ``tombstones_per_client``
    (closed channels remembered per client, 0..1024), ``max_id_len`` (longest id in bytes,
    1..65535), ``max_open_channels`` (only a client's this-many newest connects can be open,
    1..1024), ``source`` (the broker's notification format: ``"aliyun"``, ``"aws"``, ``"emqx"``,
    ``"azure-mqtt"``, ``"aliyun-sdk"`` or ``"auto"``; docs/sources.md). A bad option raises
    :class:`InvalidField`.
    """

    __slots__ = ("_engine",)
    _engine: _native.Engine

    def __init__(
        self,
        *,
        close_on_disconnect: bool = False,
        takeover: bool = False,
        tombstones_per_client: int = 8,
        max_id_len: int = 256,
        max_open_channels: int = 8,
        source: str = "aliyun",
    ) -> None:
        # The core checks the options (the same rules and messages as every binding's).
        self._engine = _native.Engine(
            {
                "closeOnDisconnect": close_on_disconnect,
                "takeover": takeover,
                "tombstonesPerClient": tombstones_per_client,
                "maxIdLen": max_id_len,
                "maxOpenChannels": max_open_channels,
                "source": source,
            }
        )

    @classmethod
    def _wrap(cls, engine: _native.Engine) -> "StatusEngine":
        obj = cls.__new__(cls)
        obj._engine = engine
        return obj

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, body: Body, tag: Optional[str] = None) -> Optional[Transition]:
        """Ingests one notification body (or ``{"tag", "body"}`` envelope).

        ``body`` is JSON text (``str``/``bytes``) or an already-decoded ``dict``; ``tag`` is the
        RocketMQ message tag. Returns the :class:`Transition` if the client's status flipped.
        Raises an :class:`InvalidNotification` subclass (and changes nothing) on a bad input.
        """
        if isinstance(body, Mapping):
            body = _dumps(body)
        elif isinstance(body, memoryview):
            body = body.tobytes()  # accepted like ingest_many and restore
        return self._engine.ingest(body, tag)

    def ingest_many(
        self, data: Union[str, bytes, bytearray, Iterable[Body]], *, until: Optional[int] = None
    ) -> BatchReport:
        """Ingests a batch: JSONL text (``str``/``bytes``, GIL released), or an iterable of bodies
        or envelopes (``str``/``bytes``/``dict``). Bad items are reported, good ones applied.

        ``until``: events with a time after it are skipped without counting.
        """
        if isinstance(data, (str, bytes, bytearray, memoryview)):
            if isinstance(data, memoryview):
                data = data.tobytes()
            return BatchReport._from_native(self._engine.ingest_many(data, until))
        if isinstance(data, Mapping):
            raise TypeError("ingest_many takes JSONL text or an iterable of bodies; use ingest() for one dict")
        items = [_body(item) for item in data]
        return BatchReport._from_native(self._engine.ingest_items(items, until))

    # -- queries --------------------------------------------------------------------------

    def is_online(self, client_id: str) -> bool:
        """Whether some channel of ``client_id`` is open (``False`` for an unknown client, and for
        an id that is not valid Unicode, such as a lone surrogate: no client can have it)."""
        return self._engine.is_online(client_id)

    def client(self, client_id: str) -> Optional[ClientStatus]:
        """Everything known about ``client_id``, or ``None`` if never seen."""
        text = self._engine.client(client_id)
        return None if text is None else ClientStatus._from_json(json.loads(text))

    def online_clients(
        self, group: Optional[str] = None, after: Optional[str] = None, limit: Optional[int] = None
    ) -> List[str]:
        """Online client ids, sorted; ``group`` filters, ``after`` is an exclusive cursor."""
        return self._engine.online_clients(group, after, limit)

    def count_online(self, group: Optional[str] = None) -> int:
        """Number of online clients, in all or in one group."""
        return self._engine.count_online(group)

    def groups(self) -> List[GroupCount]:
        """Every group with its online and known counts, sorted by group id."""
        return [GroupCount(g, o, k) for (g, o, k) in self._engine.groups()]

    def stats(self) -> Stats:
        """Engine-wide counters and gauges."""
        return Stats._from_json(json.loads(self._engine.stats()))

    @property
    def config(self) -> Dict[str, Any]:
        """The engine's options, as keyword arguments of the constructor."""
        return _config_dict(self._engine.config())

    # -- persistence ----------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The whole engine as bytes (same format in every language)."""
        return self._engine.snapshot()

    @classmethod
    def restore(cls, data: Union[bytes, bytearray]) -> "StatusEngine":
        """An engine from :meth:`snapshot` bytes (of any binding); :class:`InvalidSnapshot` if bad."""
        return cls._wrap(_native.Engine.restore(data))

    def merge(self, other: "StatusEngine") -> None:
        """Joins ``other``'s state into this engine (same configuration required, else
        :class:`ConfigMismatch`). Merging an engine with itself changes nothing."""
        if not isinstance(other, StatusEngine):
            raise TypeError("merge() takes a StatusEngine")
        self._engine.merge(other._engine)

    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]:
        return (_restore, (self.snapshot(),))

    def __copy__(self) -> "StatusEngine":
        return StatusEngine.restore(self.snapshot())

    def __deepcopy__(self, memo: Any) -> "StatusEngine":
        return StatusEngine.restore(self.snapshot())

    def __repr__(self) -> str:
        s = self.stats()
        return f"StatusEngine(clients={s.clients}, online={s.online}, config={self.config!r})"


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


class StatusStore:
    """The status store (durable and shared state, ``docs/store.md``): the engine's API over a
    backend chosen by URL (``redis://host:port``, ``redis+cluster://host:port[,host:port…]``;
    ``file:PATH`` when that backend is built).

    Open it with :meth:`open`. Every call that talks to the backend releases the GIL and
    returns only once its effect is committed (acknowledge messages after ``ingest`` returns).
    Thread-safe: share one handle among threads (concurrent ``ingest`` calls share commits).
    Backend unreachable: :class:`StoreUnavailable`; opened with another configuration:
    :class:`ConfigMismatch`.
    """

    __slots__ = ("_store",)
    _store: _native.Store

    def __init__(self) -> None:
        raise TypeError("use StatusStore.open(url, ...)")

    @classmethod
    def open(
        cls,
        url: str,
        *,
        close_on_disconnect: bool = False,
        takeover: bool = False,
        tombstones_per_client: int = 8,
        max_id_len: int = 256,
        max_open_channels: int = 8,
        source: str = "aliyun",
    ) -> "StatusStore":
        """Opens (creating if new) the store at ``url`` with the engine's keyword options."""
        if not isinstance(url, str):
            raise TypeError("url must be str")
        obj = cls.__new__(cls)
        obj._store = _native.Store.open(
            url,
            {
                "closeOnDisconnect": close_on_disconnect,
                "takeover": takeover,
                "tombstonesPerClient": tombstones_per_client,
                "maxIdLen": max_id_len,
                "maxOpenChannels": max_open_channels,
                "source": source,
            },
        )
        return obj

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, body: Body, tag: Optional[str] = None) -> Optional[Transition]:
        """Ingests one body (or envelope) and commits it; the :class:`Transition` if the shared
        status flipped (returned to this caller only)."""
        if isinstance(body, Mapping):
            body = _dumps(body)
        elif isinstance(body, memoryview):
            body = body.tobytes()
        return self._store.ingest(body, tag)

    def ingest_many(self, data: Union[str, bytes, bytearray, Iterable[Body]]) -> BatchReport:
        """Ingests a batch (JSONL text, or an iterable of bodies/envelopes) in a constant number
        of round trips; bad items are reported as by the engine."""
        if isinstance(data, (str, bytes, bytearray, memoryview)):
            if isinstance(data, memoryview):
                data = data.tobytes()
            return BatchReport._from_native(self._store.ingest_many(data))
        if isinstance(data, Mapping):
            raise TypeError("ingest_many takes JSONL text or an iterable of bodies; use ingest() for one dict")
        return BatchReport._from_native(self._store.ingest_items([_body(item) for item in data]))

    # -- queries --------------------------------------------------------------------------

    def is_online(self, client_id: str) -> bool:
        """Whether the client is online in the shared state."""
        return self._store.is_online(client_id)

    def client(self, client_id: str) -> Optional[ClientStatus]:
        """Everything known about ``client_id``, or ``None`` if never seen."""
        text = self._store.client(client_id)
        return None if text is None else ClientStatus._from_json(json.loads(text))

    def online_clients(
        self, group: Optional[str] = None, after: Optional[str] = None, limit: Optional[int] = None
    ) -> List[str]:
        """Online client ids, sorted; ``group`` filters, ``after`` is an exclusive cursor."""
        return self._store.online_clients(group, after, limit)

    def count_online(self, group: Optional[str] = None) -> int:
        """Number of online clients, in all or in one group."""
        return self._store.count_online(group)

    def groups(self) -> List[GroupCount]:
        """Every group with its online and known counts, sorted by group id."""
        return [GroupCount(g, o, k) for (g, o, k) in self._store.groups()]

    def stats(self) -> Stats:
        """The shared state's figures; ``events`` … ``went_offline`` count this handle's calls."""
        return Stats._from_json(json.loads(self._store.stats()))

    @property
    def config(self) -> Dict[str, Any]:
        """The store's options, as keyword arguments of :meth:`open`."""
        return _config_dict(self._store.config())

    # -- snapshot and feed ----------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The whole store in the engine's snapshot format (``StatusEngine.restore`` reads it)."""
        return self._store.snapshot()

    def load_snapshot(self, data: Union[bytes, bytearray]) -> None:
        """Merges a snapshot (same configuration, else :class:`ConfigMismatch`) into the store."""
        self._store.load_snapshot(data)

    def transitions(self, after: Optional[str] = None, limit: Optional[int] = None) -> FeedPage:
        """Up to ``limit`` (default 1000) flips recorded after the cursor ``after`` (``None``: from
        the oldest kept)."""
        entries, nxt = self._store.transitions(after, limit)
        return FeedPage(tuple(FeedEntry(c, t) for (c, t) in entries), nxt)

    def __repr__(self) -> str:
        return f"StatusStore(config={self.config!r})"


def _restore(data: bytes) -> StatusEngine:
    return StatusEngine.restore(data)
