import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import enums_pb2 as _enums_pb2
from iplatform.v1 import message_pb2 as _message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetNationalViewRequest(_message.Message):
    __slots__ = ("center_ids", "include_entries")
    CENTER_IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    center_ids: _containers.RepeatedScalarFieldContainer[str]
    include_entries: bool
    def __init__(self, center_ids: _Optional[_Iterable[str]] = ..., include_entries: _Optional[bool] = ...) -> None: ...

class CenterView(_message.Message):
    __slots__ = ("id", "name_ko", "name_en", "industry", "region", "role", "time_zone", "last_sync", "last_seen", "stale", "equipment")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_KO_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_ko: str
    name_en: str
    industry: _enums_pb2.Industry
    region: str
    role: _enums_pb2.CenterRole
    time_zone: str
    last_sync: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    stale: bool
    equipment: _containers.RepeatedCompositeFieldContainer[EquipmentView]
    def __init__(self, id: _Optional[str] = ..., name_ko: _Optional[str] = ..., name_en: _Optional[str] = ..., industry: _Optional[_Union[_enums_pb2.Industry, str]] = ..., region: _Optional[str] = ..., role: _Optional[_Union[_enums_pb2.CenterRole, str]] = ..., time_zone: _Optional[str] = ..., last_sync: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stale: _Optional[bool] = ..., equipment: _Optional[_Iterable[_Union[EquipmentView, _Mapping]]] = ...) -> None: ...

class EquipmentView(_message.Message):
    __slots__ = ("equipment", "entries")
    EQUIPMENT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    equipment: _message_pb2.Equipment
    entries: _containers.RepeatedCompositeFieldContainer[_message_pb2.CalendarEntry]
    def __init__(self, equipment: _Optional[_Union[_message_pb2.Equipment, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[_message_pb2.CalendarEntry, _Mapping]]] = ...) -> None: ...

class GetNationalViewResponse(_message.Message):
    __slots__ = ("centers", "generated_at", "feed_token")
    CENTERS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    FEED_TOKEN_FIELD_NUMBER: _ClassVar[int]
    centers: _containers.RepeatedCompositeFieldContainer[CenterView]
    generated_at: _timestamp_pb2.Timestamp
    feed_token: str
    def __init__(self, centers: _Optional[_Iterable[_Union[CenterView, _Mapping]]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., feed_token: _Optional[str] = ...) -> None: ...
