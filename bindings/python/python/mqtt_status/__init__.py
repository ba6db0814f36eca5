"""Is this MQTT device online? Presence from ApsaraMQ for MQTT status notifications.

A thin layer over the Rust core (``mqtt_status._native``): it converts inputs and wraps the
core's answers into frozen dataclasses (``Transition`` is a native class, built by the
extension: a batch can return hundreds of thousands). Every judgment is the core's, so the
answers are the same as the Rust, JavaScript and command-line ones. See ``docs/python.md``.

This module is typed and is its own declaration (``py.typed``, no ``__init__.pyi``); the native
module's is ``_native.pyi``, checked against the extension by ``tests/test_declarations.py``
and stubtest.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

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
    StoreClosed,
    StoreLocked,
    StoreUnavailable,
    TagMismatch,
    UnknownEventType,
)
from ._answers import (
    _camel,
    BatchError,
    BatchReport,
    ChannelStatus,
    ClientStatus,
    FeedEntry,
    FeedPage,
    GroupCount,
    StaleClient,
    Stats,
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
    "StaleClient",
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
    "StoreClosed",
    "SNAPSHOT_VERSION",
    "__version__",
]

Body = Union[str, bytes, bytearray, memoryview, Mapping[str, Any]]
"""One input: JSON text or UTF-8 bytes of a body or envelope, or a dict (serialized first)."""
Batch = Union[str, bytes, bytearray, memoryview, Iterable[Body]]
"""A batch: JSONL text or bytes, or an iterable of bodies/envelopes."""
if TYPE_CHECKING:  # type checkers only (the annotations are never evaluated at runtime)
    _Source = Literal["aliyun", "aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"]
    """The broker's notification format (docs/sources.md)."""


def _dumps(obj: Mapping[str, Any]) -> str:
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as e:
        # Not the wire's fault: the caller passed a dict that JSON cannot hold.
        raise TypeError(f"body dict is not JSON-serializable: {e}") from None


def _body(item: Any) -> Any:
    """One body as the native module takes it (``str`` or bytes-like)."""
    if isinstance(item, Mapping):
        return _dumps(item)
    if isinstance(item, memoryview):
        return item.tobytes()  # accepted like ingest_many and restore
    return item


def _jsonl(data: Batch) -> Union[str, bytes, bytearray, None]:
    """A batch's JSONL text or bytes, or ``None`` for an iterable of bodies."""
    if isinstance(data, memoryview):
        return data.tobytes()
    if isinstance(data, (str, bytes, bytearray)):
        return data
    if isinstance(data, Mapping):
        raise TypeError("ingest_many takes JSONL text or an iterable of bodies; use ingest() for one dict")
    return None


def _options(**options: Any) -> Dict[str, Any]:
    """Keyword options as the dict of camelCase keys every binding hands the core."""
    return {_camel(k): v for k, v in options.items()}


def _config_dict(native: Tuple[bool, bool, int, int, int, str, int]) -> Dict[str, Any]:
    """A native configuration tuple as the keyword arguments of the constructor / ``open``."""
    c, t, n, m, o, s, g = native
    return {
        "close_on_disconnect": c,
        "takeover": t,
        "tombstones_per_client": n,
        "max_id_len": m,
        "max_open_channels": o,
        "source": s,
        "offline_grace_ms": g,
    }


class _Handle:
    """What an engine and a store answer alike, each method delegating to the native object
    ``_inner`` (``_native.Engine`` or ``_native.Store``: the same methods, the same answers).
    Adding a query to both: the native method in ``src/lib.rs`` and ``src/store.rs``, its line
    in ``_native.pyi``, one method here."""

    __slots__ = ("_inner",)
    _inner: Union[_native.Engine, _native.Store]

    def ingest(self, body: Body, tag: Optional[str] = None) -> Optional[Transition]:
        """Ingests one notification body (or ``{"tag", "body"}`` envelope); a store commits it
        before returning.

        ``body`` is JSON text (``str``/``bytes``) or an already-decoded ``dict``; ``tag`` is the
        RocketMQ message tag. Returns the :class:`Transition` if the client's status flipped (a
        store's shared status: returned to this caller only). Raises an
        :class:`InvalidNotification` subclass (and changes nothing) on a bad input.
        """
        return self._inner.ingest(_body(body), tag)

    def is_online(self, client_id: str) -> bool:
        """Whether some channel of ``client_id`` is open (``False`` for an unknown client, and for
        an id that is not valid Unicode, such as a lone surrogate: no client can have it)."""
        return self._inner.is_online(client_id)

    def client(self, client_id: str) -> Optional[ClientStatus]:
        """Everything known about ``client_id``, or ``None`` if never seen."""
        text = self._inner.client(client_id)
        return None if text is None else ClientStatus._from_json(json.loads(text))

    def online_clients(
        self, group: Optional[str] = None, after: Optional[str] = None, limit: Optional[int] = None
    ) -> List[str]:
        """Online client ids, sorted; ``group`` filters, ``after`` is an exclusive cursor."""
        return self._inner.online_clients(group, after, limit)

    def count_online(self, group: Optional[str] = None) -> int:
        """Number of online clients, in all or in one group."""
        return self._inner.count_online(group)

    def groups(self) -> List[GroupCount]:
        """Every group with its online and known counts, sorted by group id."""
        return [GroupCount(g, o, k) for (g, o, k) in self._inner.groups()]

    def stats(self) -> Stats:
        """Counters (what this instance or handle was fed) and gauges (the state)."""
        return Stats._from_json(json.loads(self._inner.stats()))

    @property
    def config(self) -> Dict[str, Any]:
        """The options, as keyword arguments of ``StatusEngine()`` / ``StatusStore.open``."""
        return _config_dict(self._inner.config())

    def snapshot(self) -> bytes:
        """The whole state as bytes, in the engine's snapshot format (same in every language;
        ``StatusEngine.restore`` reads it)."""
        return self._inner.snapshot()

    # -- grace, observations, staleness (SPEC §9) -------------------------------------------

    def advance(self, now_ms: int) -> List[Transition]:
        """Tells the engine the host's time (the engine reads no clock). Every pending offline
        whose close + ``offline_grace_ms`` ``now_ms`` reaches is confirmed: the offline
        transitions (the close's time, channel and type), sorted by (time, client id). An earlier
        time than before, or no grace, changes nothing: ``[]``. GIL released. On a store, the
        confirmed offlines are committed and entered in its feed, each returned to exactly one
        of the store's handles."""
        return self._inner.advance(now_ms)

    def observe(self, client_id: str, online: bool, time_ms: int) -> Optional[Transition]:
        """Records an authoritative answer about ``client_id`` (e.g. from the broker's
        ``QuerySessionByClientId``) as one more event: offline at ``time_ms`` closes every
        channel connected at or before then; online holds the client online until a later close
        or offline observation. Returns the transition it caused (``event_type`` ``"observe"``,
        ``channel_id`` ``""``), if any. A bad argument raises :class:`InvalidField` (or
        :class:`MissingField`), is counted as rejected, and changes nothing."""
        return self._inner.observe(client_id, online, time_ms)

    def stale_online(self, older_than_ms: int, now_ms: int, limit: int) -> List[StaleClient]:
        """Online clients whose last sign of life (event or observation) is older than
        ``now_ms - older_than_ms``, oldest first (ties by id), at most ``limit``: the few worth
        verifying with the broker's rate-limited query API. GIL released (a store answers from
        its index of online clients by last sign of life)."""
        return [StaleClient(c, t) for (c, t) in self._inner.stale_online(older_than_ms, now_ms, limit)]


class StatusEngine(_Handle):
    """The presence engine. Thread-safe: one engine may be shared by threads.

    Options (keyword-only): ``close_on_disconnect`` (a ``disconnect`` closes its channel),
    ``takeover`` (only a client's newest connect can be open), ``tombstones_per_client``
    (closed channels remembered per client, 0..1024), ``max_id_len`` (longest id in bytes,
    1..65535), ``max_open_channels`` (only a client's this-many newest connects can be open,
    1..1024), ``source`` (the broker's notification format: ``"aliyun"``, ``"aws"``, ``"emqx"``,
    ``"azure-mqtt"``, ``"aliyun-sdk"`` or ``"auto"``; docs/sources.md), ``offline_grace_ms``
    (flap suppression, SPEC §9: an offline is reported only once it lasted this long, confirmed
    by :meth:`advance` or a later event of the client; default 0, off). A bad option raises
    :class:`InvalidField`.
    """

    __slots__ = ()
    _inner: _native.Engine

    def __init__(
        self,
        *,
        close_on_disconnect: bool = False,
        takeover: bool = False,
        tombstones_per_client: int = 8,
        max_id_len: int = 256,
        max_open_channels: int = 8,
        source: _Source = "aliyun",
        offline_grace_ms: int = 0,
    ) -> None:
        # The core checks the options (the same rules and messages as every binding's).
        self._inner = _native.Engine(
            _options(
                close_on_disconnect=close_on_disconnect,
                takeover=takeover,
                tombstones_per_client=tombstones_per_client,
                max_id_len=max_id_len,
                max_open_channels=max_open_channels,
                source=source,
                offline_grace_ms=offline_grace_ms,
            )
        )

    @classmethod
    def _wrap(cls, engine: _native.Engine) -> "StatusEngine":
        obj = cls.__new__(cls)
        obj._inner = engine
        return obj

    def ingest_many(self, data: Batch, *, until: Optional[int] = None) -> BatchReport:
        """Ingests a batch: JSONL text (``str``/``bytes``, GIL released), or an iterable of bodies
        or envelopes (``str``/``bytes``/``dict``). Bad items are reported, good ones applied.

        ``until``: events with a time after it are skipped without counting.
        """
        text = _jsonl(data)
        if text is not None:
            return BatchReport._from_native(self._inner.ingest_many(text, until))
        return BatchReport._from_native(self._inner.ingest_items([_body(item) for item in data], until))

    # -- per-client records (SPEC §8) -----------------------------------------------------

    def client_record(self, client_id: str) -> Optional[bytes]:
        """The client's per-client record: the bytes a status store keeps for it (versioned,
        checksummed, the same in every language), or ``None`` for an unknown client."""
        return self._inner.client_record(client_id)

    def load_record(self, client_id: str, data: Union[bytes, bytearray]) -> None:
        """Loads a per-client record (:meth:`client_record` of any binding), replacing that
        client's state; :class:`InvalidSnapshot` (nothing changes) for a corrupt record or one
        of another client."""
        self._inner.load_record(client_id, data)

    # -- persistence ----------------------------------------------------------------------

    @classmethod
    def restore(cls, data: Union[bytes, bytearray]) -> "StatusEngine":
        """An engine from :meth:`snapshot` bytes (of any binding); :class:`InvalidSnapshot` if bad."""
        return cls._wrap(_native.Engine.restore(data))

    def merge(self, other: "StatusEngine") -> None:
        """Joins ``other``'s state into this engine (same configuration required, else
        :class:`ConfigMismatch`). Merging an engine with itself changes nothing."""
        if not isinstance(other, StatusEngine):
            raise TypeError("merge() takes a StatusEngine")
        self._inner.merge(other._inner)

    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]:
        return (_restore, (self.snapshot(),))

    def __copy__(self) -> "StatusEngine":
        return StatusEngine.restore(self.snapshot())

    def __deepcopy__(self, memo: Any) -> "StatusEngine":
        return StatusEngine.restore(self.snapshot())

    def __repr__(self) -> str:
        s = self.stats()
        return f"StatusEngine(clients={s.clients}, online={s.online}, config={self.config!r})"


class StatusStore(_Handle):
    """The status store (durable and shared state, ``docs/store.md``): the engine's API over a
    backend chosen by URL (``file:PATH``, ``redis://host:port``,
    ``redis+cluster://host:port[,host:port…]``).

    Open it with :meth:`open`; close it with :meth:`close` or a ``with`` block
    (``with StatusStore.open(url) as store:``), which releases a file store's lock and a Redis
    store's connections; a closed handle raises :class:`StoreClosed`. Every call that talks to
    the backend releases the GIL and returns only once its effect is committed (acknowledge
    messages after ``ingest`` returns). Thread-safe: share one handle among threads (concurrent
    ``ingest`` calls share commits). Backend unreachable: :class:`StoreUnavailable`; opened with
    another configuration: :class:`ConfigMismatch`.
    """

    __slots__ = ()
    _inner: _native.Store

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
        source: _Source = "aliyun",
        offline_grace_ms: int = 0,
    ) -> "StatusStore":
        """Opens (creating if new) the store at ``url`` with the engine's keyword options,
        ``offline_grace_ms`` included: :meth:`advance`, :meth:`observe` and :meth:`stale_online`
        answer as the engine's (``docs/store.md``, "Grace, observations and staleness")."""
        if not isinstance(url, str):
            raise TypeError("url must be str")
        obj = cls.__new__(cls)
        obj._inner = _native.Store.open(
            url,
            _options(
                close_on_disconnect=close_on_disconnect,
                takeover=takeover,
                tombstones_per_client=tombstones_per_client,
                max_id_len=max_id_len,
                max_open_channels=max_open_channels,
                source=source,
                offline_grace_ms=offline_grace_ms,
            ),
        )
        return obj

    def ingest_many(self, data: Batch) -> BatchReport:
        """Ingests a batch (JSONL text, or an iterable of bodies/envelopes) in a constant number
        of round trips; bad items are reported as by the engine. Calls from several threads on
        one handle share commits, each getting its own report."""
        text = _jsonl(data)
        if text is not None:
            return BatchReport._from_native(self._inner.ingest_many(text))
        return BatchReport._from_native(self._inner.ingest_items([_body(item) for item in data]))

    # -- snapshot and feed ----------------------------------------------------------------

    def load_snapshot(self, data: Union[bytes, bytearray]) -> None:
        """Merges a snapshot (same configuration, else :class:`ConfigMismatch`) into the store."""
        self._inner.load_snapshot(data)

    def transitions(self, after: Optional[str] = None, limit: Optional[int] = None) -> FeedPage:
        """Up to ``limit`` (default 1000) flips recorded after the cursor ``after`` (``None``: from
        the oldest kept)."""
        entries, nxt = self._inner.transitions(after, limit)
        return FeedPage(tuple(FeedEntry(c, t) for (c, t) in entries), nxt)

    def group_commits(self) -> int:
        """Commits this handle made for ingest calls: fewer than the calls when calls from
        several threads overlapped (group commit: each commit carries every call queued while the
        one before ran, and every caller still gets its own result)."""
        return self._inner.group_commits()

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the handle once the calls running on it (in other threads) have ended: a file
        store's lock and a Redis store's connections are released, and every later call raises
        :class:`StoreClosed`. Closing again does nothing."""
        self._inner.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._inner.is_closed()

    def __enter__(self) -> "StatusStore":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return "StatusStore(closed)" if self.closed else f"StatusStore(config={self.config!r})"


def _restore(data: bytes) -> StatusEngine:
    return StatusEngine.restore(data)
