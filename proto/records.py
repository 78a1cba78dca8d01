"""Record keys, canonical hashes and reconciliation buckets.

Both sides must compute the same hash for the same record, so the hash is
taken over protobuf's deterministic serialization, and buckets are chosen by a
hash of the key alone (a record stays in its bucket when it changes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeAlias

from iplatform.v1 import enums_pb2 as e
from iplatform.v1 import message_pb2 as m

Record: TypeAlias = m.Equipment | m.CalendarEntry
# (record kind enum value, record id)
Key = tuple[int, str]
HASH_BYTES = 8


def key_of(record: Record) -> Key:
    if isinstance(record, m.Equipment):
        return (e.RECORD_KIND_EQUIPMENT, record.id)
    return (e.RECORD_KIND_ENTRY, record.id)


def key_message(key: Key) -> m.RecordKey:
    return m.RecordKey(kind=key[0], id=key[1])


def key_from_message(key: m.RecordKey) -> Key:
    return (int(key.kind), key.id)


def canonical_bytes(record: Record) -> bytes:
    data: bytes = record.SerializeToString(deterministic=True)
    return data


def record_hash(record: Record) -> bytes:
    """First 8 bytes of SHA-256 over the canonical bytes (collisions are harmless:
    a missed difference is caught by the next field change or a full resync)."""
    return hashlib.sha256(canonical_bytes(record)).digest()[:HASH_BYTES]


def bucket_of(key: Key, bucket_count: int) -> int:
    h = hashlib.sha256(f"{key[0]}:{key[1]}".encode()).digest()
    return int.from_bytes(h[:4], "big") % bucket_count


def bucket_digests(items: Iterable[tuple[Key, bytes]], bucket_count: int) -> list[bytes]:
    """Digest of each bucket: SHA-256 over its (key, hash) pairs in key order."""
    buckets: list[list[tuple[Key, bytes]]] = [[] for _ in range(bucket_count)]
    for key, h in items:
        buckets[bucket_of(key, bucket_count)].append((key, h))
    out = []
    for content in buckets:
        d = hashlib.sha256()
        for (kind, rid), h in sorted(content):
            d.update(f"{kind}:{rid}\0".encode())
            d.update(h)
        out.append(d.digest()[:HASH_BYTES])
    return out


def pack_digests(digests: list[bytes]) -> bytes:
    return b"".join(digests)


def unpack_digests(blob: bytes, bucket_count: int) -> list[bytes]:
    if len(blob) != bucket_count * HASH_BYTES:
        raise ValueError(f"digest blob has {len(blob)} bytes, expected {bucket_count * HASH_BYTES}")
    return [blob[i * HASH_BYTES : (i + 1) * HASH_BYTES] for i in range(bucket_count)]
