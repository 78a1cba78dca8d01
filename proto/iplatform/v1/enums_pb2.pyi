from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Industry(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDUSTRY_UNSPECIFIED: _ClassVar[Industry]
    INDUSTRY_MACHINERY_ROBOTICS: _ClassVar[Industry]
    INDUSTRY_BIO: _ClassVar[Industry]
    INDUSTRY_MATERIALS: _ClassVar[Industry]
    INDUSTRY_AUTOMOTIVE_AEROSPACE: _ClassVar[Industry]
    INDUSTRY_ELECTRICAL_ELECTRONICS: _ClassVar[Industry]
    INDUSTRY_SHIPBUILDING_OCEAN: _ClassVar[Industry]

class RdStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RD_STAGE_UNSPECIFIED: _ClassVar[RdStage]
    RD_STAGE_PLANNING: _ClassVar[RdStage]
    RD_STAGE_DESIGN: _ClassVar[RdStage]
    RD_STAGE_DEVELOPMENT: _ClassVar[RdStage]
    RD_STAGE_PROTOTYPE: _ClassVar[RdStage]
    RD_STAGE_VALIDATION: _ClassVar[RdStage]
    RD_STAGE_COMMERCIALIZATION: _ClassVar[RdStage]
    RD_STAGE_MASS_PRODUCTION: _ClassVar[RdStage]

class ServiceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_KIND_UNSPECIFIED: _ClassVar[ServiceKind]
    SERVICE_KIND_EQUIPMENT_USE: _ClassVar[ServiceKind]
    SERVICE_KIND_TEST_ANALYSIS: _ClassVar[ServiceKind]
    SERVICE_KIND_CONSULTING: _ClassVar[ServiceKind]
    SERVICE_KIND_TRAINING: _ClassVar[ServiceKind]

class CenterRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CENTER_ROLE_UNSPECIFIED: _ClassVar[CenterRole]
    CENTER_ROLE_REPRESENTATIVE: _ClassVar[CenterRole]
    CENTER_ROLE_OPERATING: _ClassVar[CenterRole]
    CENTER_ROLE_PARTICIPATING: _ClassVar[CenterRole]

class EquipmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EQUIPMENT_STATUS_UNSPECIFIED: _ClassVar[EquipmentStatus]
    EQUIPMENT_STATUS_AVAILABLE: _ClassVar[EquipmentStatus]
    EQUIPMENT_STATUS_LIMITED: _ClassVar[EquipmentStatus]
    EQUIPMENT_STATUS_MAINTENANCE: _ClassVar[EquipmentStatus]
    EQUIPMENT_STATUS_OUT_OF_SERVICE: _ClassVar[EquipmentStatus]
    EQUIPMENT_STATUS_RETIRED: _ClassVar[EquipmentStatus]

class EntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_KIND_UNSPECIFIED: _ClassVar[EntryKind]
    ENTRY_KIND_BOOKED: _ClassVar[EntryKind]
    ENTRY_KIND_TENTATIVE: _ClassVar[EntryKind]
    ENTRY_KIND_MAINTENANCE: _ClassVar[EntryKind]
    ENTRY_KIND_CLOSURE: _ClassVar[EntryKind]

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_EQUIPMENT: _ClassVar[RecordKind]
    RECORD_KIND_ENTRY: _ClassVar[RecordKind]
INDUSTRY_UNSPECIFIED: Industry
INDUSTRY_MACHINERY_ROBOTICS: Industry
INDUSTRY_BIO: Industry
INDUSTRY_MATERIALS: Industry
INDUSTRY_AUTOMOTIVE_AEROSPACE: Industry
INDUSTRY_ELECTRICAL_ELECTRONICS: Industry
INDUSTRY_SHIPBUILDING_OCEAN: Industry
RD_STAGE_UNSPECIFIED: RdStage
RD_STAGE_PLANNING: RdStage
RD_STAGE_DESIGN: RdStage
RD_STAGE_DEVELOPMENT: RdStage
RD_STAGE_PROTOTYPE: RdStage
RD_STAGE_VALIDATION: RdStage
RD_STAGE_COMMERCIALIZATION: RdStage
RD_STAGE_MASS_PRODUCTION: RdStage
SERVICE_KIND_UNSPECIFIED: ServiceKind
SERVICE_KIND_EQUIPMENT_USE: ServiceKind
SERVICE_KIND_TEST_ANALYSIS: ServiceKind
SERVICE_KIND_CONSULTING: ServiceKind
SERVICE_KIND_TRAINING: ServiceKind
CENTER_ROLE_UNSPECIFIED: CenterRole
CENTER_ROLE_REPRESENTATIVE: CenterRole
CENTER_ROLE_OPERATING: CenterRole
CENTER_ROLE_PARTICIPATING: CenterRole
EQUIPMENT_STATUS_UNSPECIFIED: EquipmentStatus
EQUIPMENT_STATUS_AVAILABLE: EquipmentStatus
EQUIPMENT_STATUS_LIMITED: EquipmentStatus
EQUIPMENT_STATUS_MAINTENANCE: EquipmentStatus
EQUIPMENT_STATUS_OUT_OF_SERVICE: EquipmentStatus
EQUIPMENT_STATUS_RETIRED: EquipmentStatus
ENTRY_KIND_UNSPECIFIED: EntryKind
ENTRY_KIND_BOOKED: EntryKind
ENTRY_KIND_TENTATIVE: EntryKind
ENTRY_KIND_MAINTENANCE: EntryKind
ENTRY_KIND_CLOSURE: EntryKind
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_EQUIPMENT: RecordKind
RECORD_KIND_ENTRY: RecordKind
