import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import enums_pb2 as _enums_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_REASON_CODE_UNSPECIFIED: _ClassVar[SearchReasonCode]
    SEARCH_REASON_CODE_NO_MATCH: _ClassVar[SearchReasonCode]
    SEARCH_REASON_CODE_NONE_FREE: _ClassVar[SearchReasonCode]
    SEARCH_REASON_CODE_ONLY_STALE: _ClassVar[SearchReasonCode]

class BusyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUSY_TYPE_UNSPECIFIED: _ClassVar[BusyType]
    BUSY_TYPE_BUSY: _ClassVar[BusyType]
    BUSY_TYPE_BUSY_TENTATIVE: _ClassVar[BusyType]
    BUSY_TYPE_BUSY_UNAVAILABLE: _ClassVar[BusyType]
SEARCH_REASON_CODE_UNSPECIFIED: SearchReasonCode
SEARCH_REASON_CODE_NO_MATCH: SearchReasonCode
SEARCH_REASON_CODE_NONE_FREE: SearchReasonCode
SEARCH_REASON_CODE_ONLY_STALE: SearchReasonCode
BUSY_TYPE_UNSPECIFIED: BusyType
BUSY_TYPE_BUSY: BusyType
BUSY_TYPE_BUSY_TENTATIVE: BusyType
BUSY_TYPE_BUSY_UNAVAILABLE: BusyType

class SearchRequest(_message.Message):
    __slots__ = ("window_start", "window_end", "duration", "industry", "category", "capabilities", "region", "stage", "service", "text", "time_zone", "limit", "offset", "slots_per_result")
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SLOTS_PER_RESULT_FIELD_NUMBER: _ClassVar[int]
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    industry: _enums_pb2.Industry
    category: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    region: str
    stage: _enums_pb2.RdStage
    service: _enums_pb2.ServiceKind
    text: str
    time_zone: str
    limit: int
    offset: int
    slots_per_result: int
    def __init__(self, window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., industry: _Optional[_Union[_enums_pb2.Industry, str]] = ..., category: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., region: _Optional[str] = ..., stage: _Optional[_Union[_enums_pb2.RdStage, str]] = ..., service: _Optional[_Union[_enums_pb2.ServiceKind, str]] = ..., text: _Optional[str] = ..., time_zone: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., slots_per_result: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "reasons", "generated_at", "matched", "total", "next_offset")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[AvailabilityResult]
    reasons: _containers.RepeatedCompositeFieldContainer[SearchReason]
    generated_at: _timestamp_pb2.Timestamp
    matched: int
    total: int
    next_offset: int
    def __init__(self, results: _Optional[_Iterable[_Union[AvailabilityResult, _Mapping]]] = ..., reasons: _Optional[_Iterable[_Union[SearchReason, _Mapping]]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., matched: _Optional[int] = ..., total: _Optional[int] = ..., next_offset: _Optional[int] = ...) -> None: ...

class AvailabilityCenter(_message.Message):
    __slots__ = ("id", "name_ko", "name_en", "industry", "region", "time_zone", "last_seen", "last_sync", "stale")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_KO_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_ko: str
    name_en: str
    industry: _enums_pb2.Industry
    region: str
    time_zone: str
    last_seen: _timestamp_pb2.Timestamp
    last_sync: _timestamp_pb2.Timestamp
    stale: bool
    def __init__(self, id: _Optional[str] = ..., name_ko: _Optional[str] = ..., name_en: _Optional[str] = ..., industry: _Optional[_Union[_enums_pb2.Industry, str]] = ..., region: _Optional[str] = ..., time_zone: _Optional[str] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sync: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stale: _Optional[bool] = ...) -> None: ...

class AvailabilityResult(_message.Message):
    __slots__ = ("center", "equipment_id", "name_ko", "name_en", "category", "capabilities", "status", "stages", "services", "stale", "slots")
    CENTER_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_KO_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    center: AvailabilityCenter
    equipment_id: str
    name_ko: str
    name_en: str
    category: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    status: _enums_pb2.EquipmentStatus
    stages: _containers.RepeatedScalarFieldContainer[_enums_pb2.RdStage]
    services: _containers.RepeatedScalarFieldContainer[_enums_pb2.ServiceKind]
    stale: bool
    slots: _containers.RepeatedCompositeFieldContainer[FreeSlot]
    def __init__(self, center: _Optional[_Union[AvailabilityCenter, _Mapping]] = ..., equipment_id: _Optional[str] = ..., name_ko: _Optional[str] = ..., name_en: _Optional[str] = ..., category: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[_enums_pb2.EquipmentStatus, str]] = ..., stages: _Optional[_Iterable[_Union[_enums_pb2.RdStage, str]]] = ..., services: _Optional[_Iterable[_Union[_enums_pb2.ServiceKind, str]]] = ..., stale: _Optional[bool] = ..., slots: _Optional[_Iterable[_Union[FreeSlot, _Mapping]]] = ...) -> None: ...

class FreeSlot(_message.Message):
    __slots__ = ("start", "end", "unconfirmed")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    UNCONFIRMED_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    unconfirmed: bool
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unconfirmed: _Optional[bool] = ...) -> None: ...

class SearchReason(_message.Message):
    __slots__ = ("code", "message", "earliest_free")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_FREE_FIELD_NUMBER: _ClassVar[int]
    code: SearchReasonCode
    message: str
    earliest_free: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[_Union[SearchReasonCode, str]] = ..., message: _Optional[str] = ..., earliest_free: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetFreeBusyRequest(_message.Message):
    __slots__ = ("center_id", "equipment_id", "window_start", "window_end")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    equipment_id: str
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    def __init__(self, center_id: _Optional[str] = ..., equipment_id: _Optional[str] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetFreeBusyResponse(_message.Message):
    __slots__ = ("center", "window_start", "window_end", "equipment")
    CENTER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_FIELD_NUMBER: _ClassVar[int]
    center: AvailabilityCenter
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    equipment: _containers.RepeatedCompositeFieldContainer[EquipmentFreeBusy]
    def __init__(self, center: _Optional[_Union[AvailabilityCenter, _Mapping]] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., equipment: _Optional[_Iterable[_Union[EquipmentFreeBusy, _Mapping]]] = ...) -> None: ...

class EquipmentFreeBusy(_message.Message):
    __slots__ = ("equipment_id", "status", "busy")
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    equipment_id: str
    status: _enums_pb2.EquipmentStatus
    busy: _containers.RepeatedCompositeFieldContainer[BusyPeriod]
    def __init__(self, equipment_id: _Optional[str] = ..., status: _Optional[_Union[_enums_pb2.EquipmentStatus, str]] = ..., busy: _Optional[_Iterable[_Union[BusyPeriod, _Mapping]]] = ...) -> None: ...

class BusyPeriod(_message.Message):
    __slots__ = ("start", "end", "type")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    type: BusyType
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[BusyType, str]] = ...) -> None: ...
