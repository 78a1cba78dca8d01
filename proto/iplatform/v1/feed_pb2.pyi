import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import message_pb2 as _message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeedOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_OP_UNSPECIFIED: _ClassVar[FeedOp]
    FEED_OP_UPSERT: _ClassVar[FeedOp]
    FEED_OP_DELETE: _ClassVar[FeedOp]
    FEED_OP_CENTER_STALE: _ClassVar[FeedOp]
    FEED_OP_CENTER_FRESH: _ClassVar[FeedOp]
FEED_OP_UNSPECIFIED: FeedOp
FEED_OP_UPSERT: FeedOp
FEED_OP_DELETE: FeedOp
FEED_OP_CENTER_STALE: FeedOp
FEED_OP_CENTER_FRESH: FeedOp

class WatchRequest(_message.Message):
    __slots__ = ("after_token",)
    AFTER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    after_token: str
    def __init__(self, after_token: _Optional[str] = ...) -> None: ...

class WatchResponse(_message.Message):
    __slots__ = ("events", "token", "caught_up")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[FeedEvent]
    token: str
    caught_up: bool
    def __init__(self, events: _Optional[_Iterable[_Union[FeedEvent, _Mapping]]] = ..., token: _Optional[str] = ..., caught_up: _Optional[bool] = ...) -> None: ...

class FeedCenterState(_message.Message):
    __slots__ = ("center_id", "last_sync", "last_seen", "connected", "stale")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    last_sync: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    connected: bool
    stale: bool
    def __init__(self, center_id: _Optional[str] = ..., last_sync: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., connected: _Optional[bool] = ..., stale: _Optional[bool] = ...) -> None: ...

class FeedEvent(_message.Message):
    __slots__ = ("token", "center_id", "op", "key", "at", "equipment", "entry", "center")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    CENTER_FIELD_NUMBER: _ClassVar[int]
    token: str
    center_id: str
    op: FeedOp
    key: _message_pb2.RecordKey
    at: _timestamp_pb2.Timestamp
    equipment: _message_pb2.Equipment
    entry: _message_pb2.CalendarEntry
    center: FeedCenterState
    def __init__(self, token: _Optional[str] = ..., center_id: _Optional[str] = ..., op: _Optional[_Union[FeedOp, str]] = ..., key: _Optional[_Union[_message_pb2.RecordKey, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., equipment: _Optional[_Union[_message_pb2.Equipment, _Mapping]] = ..., entry: _Optional[_Union[_message_pb2.CalendarEntry, _Mapping]] = ..., center: _Optional[_Union[FeedCenterState, _Mapping]] = ...) -> None: ...
