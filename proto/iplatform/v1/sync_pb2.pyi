import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from iplatform.v1 import message_pb2 as _message_pb2
from iplatform.v1 import routing_pb2 as _routing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncRequest(_message.Message):
    __slots__ = ("hello", "batch", "heartbeat", "reconcile_digest", "reconcile_report", "delivery_ack", "item_answer")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    RECONCILE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RECONCILE_REPORT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ACK_FIELD_NUMBER: _ClassVar[int]
    ITEM_ANSWER_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    batch: ChangeBatch
    heartbeat: Heartbeat
    reconcile_digest: ReconcileDigest
    reconcile_report: ReconcileReport
    delivery_ack: _routing_pb2.DeliveryAck
    item_answer: _routing_pb2.ItemAnswer
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., batch: _Optional[_Union[ChangeBatch, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., reconcile_digest: _Optional[_Union[ReconcileDigest, _Mapping]] = ..., reconcile_report: _Optional[_Union[ReconcileReport, _Mapping]] = ..., delivery_ack: _Optional[_Union[_routing_pb2.DeliveryAck, _Mapping]] = ..., item_answer: _Optional[_Union[_routing_pb2.ItemAnswer, _Mapping]] = ...) -> None: ...

class SyncResponse(_message.Message):
    __slots__ = ("welcome", "ack", "control", "reconcile_buckets", "delivery", "answer_ack")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    RECONCILE_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    ANSWER_ACK_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    ack: Ack
    control: Control
    reconcile_buckets: ReconcileBuckets
    delivery: _routing_pb2.Delivery
    answer_ack: _routing_pb2.AnswerAck
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., control: _Optional[_Union[Control, _Mapping]] = ..., reconcile_buckets: _Optional[_Union[ReconcileBuckets, _Mapping]] = ..., delivery: _Optional[_Union[_routing_pb2.Delivery, _Mapping]] = ..., answer_ack: _Optional[_Union[_routing_pb2.AnswerAck, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("center_id", "agent_version", "last_acked_seq", "last_assigned_seq", "heartbeat_seconds")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    LAST_ACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_ASSIGNED_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    agent_version: str
    last_acked_seq: int
    last_assigned_seq: int
    heartbeat_seconds: int
    def __init__(self, center_id: _Optional[str] = ..., agent_version: _Optional[str] = ..., last_acked_seq: _Optional[int] = ..., last_assigned_seq: _Optional[int] = ..., heartbeat_seconds: _Optional[int] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("high_water_mark", "settings", "server_time")
    HIGH_WATER_MARK_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    high_water_mark: int
    settings: Settings
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, high_water_mark: _Optional[int] = ..., settings: _Optional[_Union[Settings, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChangeBatch(_message.Message):
    __slots__ = ("center_id", "prev_seq", "changes")
    CENTER_ID_FIELD_NUMBER: _ClassVar[int]
    PREV_SEQ_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    center_id: str
    prev_seq: int
    changes: _containers.RepeatedCompositeFieldContainer[_message_pb2.Change]
    def __init__(self, center_id: _Optional[str] = ..., prev_seq: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[_message_pb2.Change, _Mapping]]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("high_water_mark", "applied", "duplicates", "rewind")
    HIGH_WATER_MARK_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REWIND_FIELD_NUMBER: _ClassVar[int]
    high_water_mark: int
    applied: int
    duplicates: int
    rewind: bool
    def __init__(self, high_water_mark: _Optional[int] = ..., applied: _Optional[int] = ..., duplicates: _Optional[int] = ..., rewind: _Optional[bool] = ...) -> None: ...

class SourceHealth(_message.Message):
    __slots__ = ("name", "last_poll", "ok", "records", "problems", "first_problem")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_POLL_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    FIRST_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    name: str
    last_poll: _timestamp_pb2.Timestamp
    ok: bool
    records: int
    problems: int
    first_problem: str
    def __init__(self, name: _Optional[str] = ..., last_poll: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ok: _Optional[bool] = ..., records: _Optional[int] = ..., problems: _Optional[int] = ..., first_problem: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_at", "backlog", "last_assigned_seq", "sources", "quarantined_deletes")
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    LAST_ASSIGNED_SEQ_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_DELETES_FIELD_NUMBER: _ClassVar[int]
    sent_at: _timestamp_pb2.Timestamp
    backlog: int
    last_assigned_seq: int
    sources: _containers.RepeatedCompositeFieldContainer[SourceHealth]
    quarantined_deletes: int
    def __init__(self, sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backlog: _Optional[int] = ..., last_assigned_seq: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[SourceHealth, _Mapping]]] = ..., quarantined_deletes: _Optional[int] = ...) -> None: ...

class Control(_message.Message):
    __slots__ = ("resync", "settings", "trust_bundle", "renew")
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    TRUST_BUNDLE_FIELD_NUMBER: _ClassVar[int]
    RENEW_FIELD_NUMBER: _ClassVar[int]
    resync: ResyncRequest
    settings: Settings
    trust_bundle: TrustBundleUpdate
    renew: RenewRequest
    def __init__(self, resync: _Optional[_Union[ResyncRequest, _Mapping]] = ..., settings: _Optional[_Union[Settings, _Mapping]] = ..., trust_bundle: _Optional[_Union[TrustBundleUpdate, _Mapping]] = ..., renew: _Optional[_Union[RenewRequest, _Mapping]] = ...) -> None: ...

class TrustBundleUpdate(_message.Message):
    __slots__ = ("trust_bundle_pem",)
    TRUST_BUNDLE_PEM_FIELD_NUMBER: _ClassVar[int]
    trust_bundle_pem: bytes
    def __init__(self, trust_bundle_pem: _Optional[bytes] = ...) -> None: ...

class RenewRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ResyncRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Settings(_message.Message):
    __slots__ = ("heartbeat_seconds", "max_batch_changes", "max_inflight_batches", "reconcile_seconds")
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_CHANGES_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_BATCHES_FIELD_NUMBER: _ClassVar[int]
    RECONCILE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    heartbeat_seconds: int
    max_batch_changes: int
    max_inflight_batches: int
    reconcile_seconds: int
    def __init__(self, heartbeat_seconds: _Optional[int] = ..., max_batch_changes: _Optional[int] = ..., max_inflight_batches: _Optional[int] = ..., reconcile_seconds: _Optional[int] = ...) -> None: ...

class ReconcileDigest(_message.Message):
    __slots__ = ("round", "bucket_count", "digests", "as_of_seq")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BUCKET_COUNT_FIELD_NUMBER: _ClassVar[int]
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_SEQ_FIELD_NUMBER: _ClassVar[int]
    round: int
    bucket_count: int
    digests: bytes
    as_of_seq: int
    def __init__(self, round: _Optional[int] = ..., bucket_count: _Optional[int] = ..., digests: _Optional[bytes] = ..., as_of_seq: _Optional[int] = ...) -> None: ...

class KeyHash(_message.Message):
    __slots__ = ("key", "hash")
    KEY_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    key: _message_pb2.RecordKey
    hash: bytes
    def __init__(self, key: _Optional[_Union[_message_pb2.RecordKey, _Mapping]] = ..., hash: _Optional[bytes] = ...) -> None: ...

class Bucket(_message.Message):
    __slots__ = ("index", "entries")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    index: int
    entries: _containers.RepeatedCompositeFieldContainer[KeyHash]
    def __init__(self, index: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[KeyHash, _Mapping]]] = ...) -> None: ...

class ReconcileBuckets(_message.Message):
    __slots__ = ("round", "buckets", "buckets_compared")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_COMPARED_FIELD_NUMBER: _ClassVar[int]
    round: int
    buckets: _containers.RepeatedCompositeFieldContainer[Bucket]
    buckets_compared: int
    def __init__(self, round: _Optional[int] = ..., buckets: _Optional[_Iterable[_Union[Bucket, _Mapping]]] = ..., buckets_compared: _Optional[int] = ...) -> None: ...

class ReconcileReport(_message.Message):
    __slots__ = ("round", "buckets_differing", "upserts_queued", "deletes_queued")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_DIFFERING_FIELD_NUMBER: _ClassVar[int]
    UPSERTS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    DELETES_QUEUED_FIELD_NUMBER: _ClassVar[int]
    round: int
    buckets_differing: int
    upserts_queued: int
    deletes_queued: int
    def __init__(self, round: _Optional[int] = ..., buckets_differing: _Optional[int] = ..., upserts_queued: _Optional[int] = ..., deletes_queued: _Optional[int] = ...) -> None: ...
