import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import enums_pb2 as _enums_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REQUEST_STATE_UNSPECIFIED: _ClassVar[RequestState]
    REQUEST_STATE_IN_PROGRESS: _ClassVar[RequestState]
    REQUEST_STATE_ACCEPTED: _ClassVar[RequestState]
    REQUEST_STATE_PARTIALLY_SERVED: _ClassVar[RequestState]
    REQUEST_STATE_UNSERVED: _ClassVar[RequestState]
    REQUEST_STATE_CANCELLED: _ClassVar[RequestState]

class ItemState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_STATE_UNSPECIFIED: _ClassVar[ItemState]
    ITEM_STATE_ROUTED: _ClassVar[ItemState]
    ITEM_STATE_DELIVERED: _ClassVar[ItemState]
    ITEM_STATE_ACCEPTED: _ClassVar[ItemState]
    ITEM_STATE_PROPOSED: _ClassVar[ItemState]
    ITEM_STATE_DECLINED: _ClassVar[ItemState]
    ITEM_STATE_EXPIRED: _ClassVar[ItemState]
    ITEM_STATE_WITHDRAWN: _ClassVar[ItemState]

class DeclineReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECLINE_REASON_UNSPECIFIED: _ClassVar[DeclineReason]
    DECLINE_REASON_NO_CAPACITY: _ClassVar[DeclineReason]
    DECLINE_REASON_EQUIPMENT_UNAVAILABLE: _ClassVar[DeclineReason]
    DECLINE_REASON_OUT_OF_SCOPE: _ClassVar[DeclineReason]
    DECLINE_REASON_OTHER: _ClassVar[DeclineReason]

class AnswerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANSWER_KIND_UNSPECIFIED: _ClassVar[AnswerKind]
    ANSWER_KIND_ACCEPT: _ClassVar[AnswerKind]
    ANSWER_KIND_DECLINE: _ClassVar[AnswerKind]
    ANSWER_KIND_PROPOSE: _ClassVar[AnswerKind]

class AnswerOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANSWER_OUTCOME_UNSPECIFIED: _ClassVar[AnswerOutcome]
    ANSWER_OUTCOME_APPLIED: _ClassVar[AnswerOutcome]
    ANSWER_OUTCOME_DUPLICATE: _ClassVar[AnswerOutcome]
    ANSWER_OUTCOME_REJECTED: _ClassVar[AnswerOutcome]
REQUEST_STATE_UNSPECIFIED: RequestState
REQUEST_STATE_IN_PROGRESS: RequestState
REQUEST_STATE_ACCEPTED: RequestState
REQUEST_STATE_PARTIALLY_SERVED: RequestState
REQUEST_STATE_UNSERVED: RequestState
REQUEST_STATE_CANCELLED: RequestState
ITEM_STATE_UNSPECIFIED: ItemState
ITEM_STATE_ROUTED: ItemState
ITEM_STATE_DELIVERED: ItemState
ITEM_STATE_ACCEPTED: ItemState
ITEM_STATE_PROPOSED: ItemState
ITEM_STATE_DECLINED: ItemState
ITEM_STATE_EXPIRED: ItemState
ITEM_STATE_WITHDRAWN: ItemState
DECLINE_REASON_UNSPECIFIED: DeclineReason
DECLINE_REASON_NO_CAPACITY: DeclineReason
DECLINE_REASON_EQUIPMENT_UNAVAILABLE: DeclineReason
DECLINE_REASON_OUT_OF_SCOPE: DeclineReason
DECLINE_REASON_OTHER: DeclineReason
ANSWER_KIND_UNSPECIFIED: AnswerKind
ANSWER_KIND_ACCEPT: AnswerKind
ANSWER_KIND_DECLINE: AnswerKind
ANSWER_KIND_PROPOSE: AnswerKind
ANSWER_OUTCOME_UNSPECIFIED: AnswerOutcome
ANSWER_OUTCOME_APPLIED: AnswerOutcome
ANSWER_OUTCOME_DUPLICATE: AnswerOutcome
ANSWER_OUTCOME_REJECTED: AnswerOutcome

class Company(_message.Message):
    __slots__ = ("name", "business_number", "contact_name", "contact_email", "contact_phone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    business_number: str
    contact_name: str
    contact_email: str
    contact_phone: str
    def __init__(self, name: _Optional[str] = ..., business_number: _Optional[str] = ..., contact_name: _Optional[str] = ..., contact_email: _Optional[str] = ..., contact_phone: _Optional[str] = ...) -> None: ...

class Need(_message.Message):
    __slots__ = ("stage", "category", "capabilities", "service", "hours", "earliest", "latest", "region", "note")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    stage: _enums_pb2.RdStage
    category: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    service: _enums_pb2.ServiceKind
    hours: float
    earliest: _timestamp_pb2.Timestamp
    latest: _timestamp_pb2.Timestamp
    region: str
    note: str
    def __init__(self, stage: _Optional[_Union[_enums_pb2.RdStage, str]] = ..., category: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., service: _Optional[_Union[_enums_pb2.ServiceKind, str]] = ..., hours: _Optional[float] = ..., earliest: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., latest: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RequestDraft(_message.Message):
    __slots__ = ("company", "project_title", "technology_area", "goal", "needs", "stages", "earliest", "latest", "region", "hours")
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TITLE_FIELD_NUMBER: _ClassVar[int]
    TECHNOLOGY_AREA_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    company: Company
    project_title: str
    technology_area: str
    goal: str
    needs: _containers.RepeatedCompositeFieldContainer[Need]
    stages: _containers.RepeatedScalarFieldContainer[_enums_pb2.RdStage]
    earliest: _timestamp_pb2.Timestamp
    latest: _timestamp_pb2.Timestamp
    region: str
    hours: float
    def __init__(self, company: _Optional[_Union[Company, _Mapping]] = ..., project_title: _Optional[str] = ..., technology_area: _Optional[str] = ..., goal: _Optional[str] = ..., needs: _Optional[_Iterable[_Union[Need, _Mapping]]] = ..., stages: _Optional[_Iterable[_Union[_enums_pb2.RdStage, str]]] = ..., earliest: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., latest: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ..., hours: _Optional[float] = ...) -> None: ...

class PreviewRequestRequest(_message.Message):
    __slots__ = ("draft",)
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    draft: RequestDraft
    def __init__(self, draft: _Optional[_Union[RequestDraft, _Mapping]] = ...) -> None: ...

class SubmitRequestRequest(_message.Message):
    __slots__ = ("draft", "client_request_id")
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    draft: RequestDraft
    client_request_id: str
    def __init__(self, draft: _Optional[_Union[RequestDraft, _Mapping]] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class SubmitRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class GetRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class RespondToProposalResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class CancelRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class ReassignItemResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("center_id", "center_name", "equipment_id", "equipment_name", "region", "slot_start", "slot_end", "score", "fit", "earliness", "region_match", "load", "open_items", "stale")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    CENTER_NAME_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SLOT_START_FIELD_NUMBER: _ClassVar[int]
    SLOT_END_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FIT_FIELD_NUMBER: _ClassVar[int]
    EARLINESS_FIELD_NUMBER: _ClassVar[int]
    REGION_MATCH_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    OPEN_ITEMS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    center_name: str
    equipment_id: str
    equipment_name: str
    region: str
    slot_start: _timestamp_pb2.Timestamp
    slot_end: _timestamp_pb2.Timestamp
    score: float
    fit: float
    earliness: float
    region_match: float
    load: float
    open_items: int
    stale: bool
    def __init__(self, center_id: _Optional[str] = ..., center_name: _Optional[str] = ..., equipment_id: _Optional[str] = ..., equipment_name: _Optional[str] = ..., region: _Optional[str] = ..., slot_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., slot_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., score: _Optional[float] = ..., fit: _Optional[float] = ..., earliness: _Optional[float] = ..., region_match: _Optional[float] = ..., load: _Optional[float] = ..., open_items: _Optional[int] = ..., stale: _Optional[bool] = ...) -> None: ...

class PlannedNeed(_message.Message):
    __slots__ = ("index", "need", "origin", "candidates", "unserved_reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NEED_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    UNSERVED_REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    need: Need
    origin: str
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    unserved_reason: str
    def __init__(self, index: _Optional[int] = ..., need: _Optional[_Union[Need, _Mapping]] = ..., origin: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., unserved_reason: _Optional[str] = ...) -> None: ...

class Coordinator(_message.Message):
    __slots__ = ("center_id", "name", "industry")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    name: str
    industry: _enums_pb2.Industry
    def __init__(self, center_id: _Optional[str] = ..., name: _Optional[str] = ..., industry: _Optional[_Union[_enums_pb2.Industry, str]] = ...) -> None: ...

class PreviewRequestResponse(_message.Message):
    __slots__ = ("needs", "coordinator", "generated_at")
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    needs: _containers.RepeatedCompositeFieldContainer[PlannedNeed]
    coordinator: Coordinator
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, needs: _Optional[_Iterable[_Union[PlannedNeed, _Mapping]]] = ..., coordinator: _Optional[_Union[Coordinator, _Mapping]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestEvent(_message.Message):
    __slots__ = ("at", "actor", "kind", "item_id", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    actor: str
    kind: str
    item_id: str
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., kind: _Optional[str] = ..., item_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class RoutedItem(_message.Message):
    __slots__ = ("item_id", "need_index", "attempt", "state", "candidate", "routed_at", "delivered_at", "deadline", "answered_at", "start", "end", "decline_reason", "message")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NEED_INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    ROUTED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    need_index: int
    attempt: int
    state: ItemState
    candidate: Candidate
    routed_at: _timestamp_pb2.Timestamp
    delivered_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    answered_at: _timestamp_pb2.Timestamp
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    decline_reason: DeclineReason
    message: str
    def __init__(self, item_id: _Optional[str] = ..., need_index: _Optional[int] = ..., attempt: _Optional[int] = ..., state: _Optional[_Union[ItemState, str]] = ..., candidate: _Optional[_Union[Candidate, _Mapping]] = ..., routed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decline_reason: _Optional[_Union[DeclineReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class RequestNeedStatus(_message.Message):
    __slots__ = ("plan", "items")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    plan: PlannedNeed
    items: _containers.RepeatedCompositeFieldContainer[RoutedItem]
    def __init__(self, plan: _Optional[_Union[PlannedNeed, _Mapping]] = ..., items: _Optional[_Iterable[_Union[RoutedItem, _Mapping]]] = ...) -> None: ...

class ServiceRequest(_message.Message):
    __slots__ = ("id", "state", "company", "project_title", "technology_area", "goal", "coordinator", "needs", "events", "created_at", "updated_at", "submitted_by", "client_request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TITLE_FIELD_NUMBER: _ClassVar[int]
    TECHNOLOGY_AREA_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: RequestState
    company: Company
    project_title: str
    technology_area: str
    goal: str
    coordinator: Coordinator
    needs: _containers.RepeatedCompositeFieldContainer[RequestNeedStatus]
    events: _containers.RepeatedCompositeFieldContainer[RequestEvent]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    submitted_by: str
    client_request_id: str
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ..., company: _Optional[_Union[Company, _Mapping]] = ..., project_title: _Optional[str] = ..., technology_area: _Optional[str] = ..., goal: _Optional[str] = ..., coordinator: _Optional[_Union[Coordinator, _Mapping]] = ..., needs: _Optional[_Iterable[_Union[RequestNeedStatus, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[RequestEvent, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted_by: _Optional[str] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class GetRequestRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("state", "center_id", "limit", "page_token")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    state: RequestState
    center_id: str
    limit: int
    page_token: str
    def __init__(self, state: _Optional[_Union[RequestState, str]] = ..., center_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ServiceRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ServiceRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RespondToProposalRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "accept")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    accept: bool
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., accept: _Optional[bool] = ...) -> None: ...

class CancelRequestRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReassignItemRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "target", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    target: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., target: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DemandSignal(_message.Message):
    __slots__ = ("kind", "category", "center_id", "count", "first_at", "last_at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_AT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    category: str
    center_id: str
    count: int
    first_at: _timestamp_pb2.Timestamp
    last_at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[str] = ..., category: _Optional[str] = ..., center_id: _Optional[str] = ..., count: _Optional[int] = ..., first_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDemandSignalsRequest(_message.Message):
    __slots__ = ("since", "category", "center_id")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    category: str
    center_id: str
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., category: _Optional[str] = ..., center_id: _Optional[str] = ...) -> None: ...

class ListDemandSignalsResponse(_message.Message):
    __slots__ = ("signals",)
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[DemandSignal]
    def __init__(self, signals: _Optional[_Iterable[_Union[DemandSignal, _Mapping]]] = ...) -> None: ...

class ListTechnologyAreasRequest(_message.Message):
    __slots__ = ("industry",)
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    industry: _enums_pb2.Industry
    def __init__(self, industry: _Optional[_Union[_enums_pb2.Industry, str]] = ...) -> None: ...

class GuideNeed(_message.Message):
    __slots__ = ("stage", "category", "capabilities", "service", "hours", "note")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    stage: _enums_pb2.RdStage
    category: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    service: _enums_pb2.ServiceKind
    hours: float
    note: str
    def __init__(self, stage: _Optional[_Union[_enums_pb2.RdStage, str]] = ..., category: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., service: _Optional[_Union[_enums_pb2.ServiceKind, str]] = ..., hours: _Optional[float] = ..., note: _Optional[str] = ...) -> None: ...

class TechnologyArea(_message.Message):
    __slots__ = ("code", "name_ko", "name_en", "industry", "needs")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_KO_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    code: str
    name_ko: str
    name_en: str
    industry: _enums_pb2.Industry
    needs: _containers.RepeatedCompositeFieldContainer[GuideNeed]
    def __init__(self, code: _Optional[str] = ..., name_ko: _Optional[str] = ..., name_en: _Optional[str] = ..., industry: _Optional[_Union[_enums_pb2.Industry, str]] = ..., needs: _Optional[_Iterable[_Union[GuideNeed, _Mapping]]] = ...) -> None: ...

class ListTechnologyAreasResponse(_message.Message):
    __slots__ = ("areas", "guide_version")
    AREAS_FIELD_NUMBER: _ClassVar[int]
    GUIDE_VERSION_FIELD_NUMBER: _ClassVar[int]
    areas: _containers.RepeatedCompositeFieldContainer[TechnologyArea]
    guide_version: str
    def __init__(self, areas: _Optional[_Iterable[_Union[TechnologyArea, _Mapping]]] = ..., guide_version: _Optional[str] = ...) -> None: ...

class WorkItem(_message.Message):
    __slots__ = ("item_id", "request_id", "attempt", "company", "project_title", "technology_area", "goal", "coordinator", "equipment_id", "need", "slot_start", "slot_end", "deadline", "routed_at")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TITLE_FIELD_NUMBER: _ClassVar[int]
    TECHNOLOGY_AREA_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEED_FIELD_NUMBER: _ClassVar[int]
    SLOT_START_FIELD_NUMBER: _ClassVar[int]
    SLOT_END_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ROUTED_AT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    request_id: str
    attempt: int
    company: Company
    project_title: str
    technology_area: str
    goal: str
    coordinator: Coordinator
    equipment_id: str
    need: Need
    slot_start: _timestamp_pb2.Timestamp
    slot_end: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    routed_at: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[str] = ..., request_id: _Optional[str] = ..., attempt: _Optional[int] = ..., company: _Optional[_Union[Company, _Mapping]] = ..., project_title: _Optional[str] = ..., technology_area: _Optional[str] = ..., goal: _Optional[str] = ..., coordinator: _Optional[_Union[Coordinator, _Mapping]] = ..., equipment_id: _Optional[str] = ..., need: _Optional[_Union[Need, _Mapping]] = ..., slot_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., slot_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., routed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Withdrawal(_message.Message):
    __slots__ = ("item_id", "reason")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    reason: str
    def __init__(self, item_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Confirmation(_message.Message):
    __slots__ = ("item_id", "start", "end")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("seq", "item", "withdrawal", "confirmation")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    seq: int
    item: WorkItem
    withdrawal: Withdrawal
    confirmation: Confirmation
    def __init__(self, seq: _Optional[int] = ..., item: _Optional[_Union[WorkItem, _Mapping]] = ..., withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., confirmation: _Optional[_Union[Confirmation, _Mapping]] = ...) -> None: ...

class DeliveryAck(_message.Message):
    __slots__ = ("seq",)
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class ItemAnswer(_message.Message):
    __slots__ = ("answer_seq", "item_id", "kind", "start", "end", "decline_reason", "message", "answered_by", "answered_at")
    ANSWER_SEQ_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    answer_seq: int
    item_id: str
    kind: AnswerKind
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    decline_reason: DeclineReason
    message: str
    answered_by: str
    answered_at: _timestamp_pb2.Timestamp
    def __init__(self, answer_seq: _Optional[int] = ..., item_id: _Optional[str] = ..., kind: _Optional[_Union[AnswerKind, str]] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decline_reason: _Optional[_Union[DeclineReason, str]] = ..., message: _Optional[str] = ..., answered_by: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AnswerAck(_message.Message):
    __slots__ = ("answer_seq", "item_id", "outcome", "message", "item_state")
    ANSWER_SEQ_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ITEM_STATE_FIELD_NUMBER: _ClassVar[int]
    answer_seq: int
    item_id: str
    outcome: AnswerOutcome
    message: str
    item_state: ItemState
    def __init__(self, answer_seq: _Optional[int] = ..., item_id: _Optional[str] = ..., outcome: _Optional[_Union[AnswerOutcome, str]] = ..., message: _Optional[str] = ..., item_state: _Optional[_Union[ItemState, str]] = ...) -> None: ...
