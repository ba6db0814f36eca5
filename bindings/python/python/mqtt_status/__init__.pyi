from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union

from . import _native as _native
from ._native import Transition as Transition
from ._errors import (
    ConfigMismatch as ConfigMismatch,
    InvalidField as InvalidField,
    InvalidJson as InvalidJson,
    InvalidNotification as InvalidNotification,
    InvalidSnapshot as InvalidSnapshot,
    MissingField as MissingField,
    StatusError as StatusError,
    StoreLocked as StoreLocked,
    StoreUnavailable as StoreUnavailable,
    TagMismatch as TagMismatch,
    UnknownEventType as UnknownEventType,
)

__version__: str
SNAPSHOT_VERSION: int
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

@dataclass(frozen=True)
class ChannelStatus:
    channel_id: str
    state: Literal["open", "closed", "superseded"]
    connect_time: Optional[int]
    disconnect_time: Optional[int]
    close_time: Optional[int]
    client_ip: Optional[str]
    def to_dict(self) -> Dict[str, Any]: ...

@dataclass(frozen=True)
class ClientStatus:
    client_id: str
    group_id: Optional[str]
    device_id: str
    online: bool
    last_event_time: Optional[int]
    last_ip: Optional[str]
    connects: int
    horizon: Optional[int]
    channels: Tuple[ChannelStatus, ...]
    def to_dict(self) -> Dict[str, Any]: ...

@dataclass(frozen=True)
class GroupCount:
    group_id: str
    online: int
    known: int
    def to_dict(self) -> Dict[str, Any]: ...

@dataclass(frozen=True)
class Stats:
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
    def to_dict(self) -> Dict[str, Any]: ...

@dataclass(frozen=True)
class BatchError:
    index: int
    code: str
    field: Optional[str]
    message: str
    def to_dict(self) -> Dict[str, Any]: ...

@dataclass(frozen=True)
class BatchReport:
    applied: int
    duplicates: int
    late: int
    rejected: int
    errors: Tuple[BatchError, ...]
    transitions: Tuple[Transition, ...]
    def to_dict(self) -> Dict[str, Any]: ...

class StatusEngine:
    def __init__(
        self,
        *,
        close_on_disconnect: bool = False,
        takeover: bool = False,
        tombstones_per_client: int = 8,
        max_id_len: int = 256,
        max_open_channels: int = 8,
        source: Literal["aliyun", "aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"] = "aliyun",
    ) -> None: ...
    def ingest(self, body: Body, tag: Optional[str] = None) -> Optional[Transition]: ...
    def ingest_many(
        self, data: Union[str, bytes, bytearray, Iterable[Body]], *, until: Optional[int] = None
    ) -> BatchReport: ...
    def is_online(self, client_id: str) -> bool: ...
    def client(self, client_id: str) -> Optional[ClientStatus]: ...
    def online_clients(
        self, group: Optional[str] = None, after: Optional[str] = None, limit: Optional[int] = None
    ) -> List[str]: ...
    def count_online(self, group: Optional[str] = None) -> int: ...
    def groups(self) -> List[GroupCount]: ...
    def stats(self) -> Stats: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    def snapshot(self) -> bytes: ...
    @classmethod
    def restore(cls, data: Union[bytes, bytearray]) -> StatusEngine: ...
    def merge(self, other: StatusEngine) -> None: ...
    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]: ...
    def __copy__(self) -> StatusEngine: ...
    def __deepcopy__(self, memo: Any) -> StatusEngine: ...

@dataclass(frozen=True)
class FeedEntry:
    cursor: str
    transition: Transition

@dataclass(frozen=True)
class FeedPage:
    entries: Tuple[FeedEntry, ...]
    next: str

class StatusStore:
    def __init__(self) -> None: ...
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
        source: Literal["aliyun", "aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"] = "aliyun",
    ) -> StatusStore: ...
    def ingest(self, body: Body, tag: Optional[str] = None) -> Optional[Transition]: ...
    def ingest_many(self, data: Union[str, bytes, bytearray, Iterable[Body]]) -> BatchReport: ...
    def is_online(self, client_id: str) -> bool: ...
    def client(self, client_id: str) -> Optional[ClientStatus]: ...
    def online_clients(
        self, group: Optional[str] = None, after: Optional[str] = None, limit: Optional[int] = None
    ) -> List[str]: ...
    def count_online(self, group: Optional[str] = None) -> int: ...
    def groups(self) -> List[GroupCount]: ...
    def stats(self) -> Stats: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    def snapshot(self) -> bytes: ...
    def load_snapshot(self, data: Union[bytes, bytearray]) -> None: ...
    def transitions(self, after: Optional[str] = None, limit: Optional[int] = None) -> FeedPage: ...
