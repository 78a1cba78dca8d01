import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import enums_pb2 as _enums_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WeeklyHours(_message.Message):
    __slots__ = ("weekday", "start_minute", "end_minute")
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    START_MINUTE_FIELD_NUMBER: _ClassVar[int]
    END_MINUTE_FIELD_NUMBER: _ClassVar[int]
    weekday: int
    start_minute: int
    end_minute: int
    def __init__(self, weekday: _Optional[int] = ..., start_minute: _Optional[int] = ..., end_minute: _Optional[int] = ...) -> None: ...

class BookingRules(_message.Message):
    __slots__ = ("min_slot_minutes", "max_slot_minutes", "lead_time_minutes")
    MIN_SLOT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MAX_SLOT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_MINUTES_FIELD_NUMBER: _ClassVar[int]
    min_slot_minutes: int
    max_slot_minutes: int
    lead_time_minutes: int
    def __init__(self, min_slot_minutes: _Optional[int] = ..., max_slot_minutes: _Optional[int] = ..., lead_time_minutes: _Optional[int] = ...) -> None: ...

class Equipment(_message.Message):
    __slots__ = ("id", "name_ko", "name_en", "category", "capabilities", "manufacturer", "model", "year_acquired", "status", "stages", "services", "location", "fee_note", "booking_rules", "operating_hours")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_KO_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    YEAR_ACQUIRED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    FEE_NOTE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_RULES_FIELD_NUMBER: _ClassVar[int]
    OPERATING_HOURS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_ko: str
    name_en: str
    category: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    manufacturer: str
    model: str
    year_acquired: int
    status: _enums_pb2.EquipmentStatus
    stages: _containers.RepeatedScalarFieldContainer[_enums_pb2.RdStage]
    services: _containers.RepeatedScalarFieldContainer[_enums_pb2.ServiceKind]
    location: str
    fee_note: str
    booking_rules: BookingRules
    operating_hours: _containers.RepeatedCompositeFieldContainer[WeeklyHours]
    def __init__(self, id: _Optional[str] = ..., name_ko: _Optional[str] = ..., name_en: _Optional[str] = ..., category: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., manufacturer: _Optional[str] = ..., model: _Optional[str] = ..., year_acquired: _Optional[int] = ..., status: _Optional[_Union[_enums_pb2.EquipmentStatus, str]] = ..., stages: _Optional[_Iterable[_Union[_enums_pb2.RdStage, str]]] = ..., services: _Optional[_Iterable[_Union[_enums_pb2.ServiceKind, str]]] = ..., location: _Optional[str] = ..., fee_note: _Optional[str] = ..., booking_rules: _Optional[_Union[BookingRules, _Mapping]] = ..., operating_hours: _Optional[_Iterable[_Union[WeeklyHours, _Mapping]]] = ...) -> None: ...

class CalendarEntry(_message.Message):
    __slots__ = ("id", "equipment_id", "start", "end", "kind")
    ID_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    id: str
    equipment_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    kind: _enums_pb2.EntryKind
    def __init__(self, id: _Optional[str] = ..., equipment_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[_enums_pb2.EntryKind, str]] = ...) -> None: ...

class RecordKey(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: _enums_pb2.RecordKind
    id: str
    def __init__(self, kind: _Optional[_Union[_enums_pb2.RecordKind, str]] = ..., id: _Optional[str] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("key", "seq", "center_id", "equipment", "entry", "deleted")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    key: RecordKey
    seq: int
    center_id: str
    equipment: Equipment
    entry: CalendarEntry
    deleted: bool
    def __init__(self, key: _Optional[_Union[RecordKey, _Mapping]] = ..., seq: _Optional[int] = ..., center_id: _Optional[str] = ..., equipment: _Optional[_Union[Equipment, _Mapping]] = ..., entry: _Optional[_Union[CalendarEntry, _Mapping]] = ..., deleted: _Optional[bool] = ...) -> None: ...
