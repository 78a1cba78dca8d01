"""The iplatform.v1 contract and the thin helpers both the agent and the hub need.

Public surface:

- ``proto.pb``: the generated messages and enums (``pb.Equipment``, ``pb.Change``, ...).
- ``proto.grpc_services``: the generated gRPC stubs and servicers.
- ``proto.codes``: the text codes users see (``"machinery-robotics"``, ``"booked"``) to and
  from the enum values on the wire.
- ``proto.records``: record keys, canonical hashes and reconciliation buckets.
- ``proto.validate``: the record rules both sides enforce.
- ``proto.identity``: SPIFFE-style identities carried in certificates.
- ``proto.timeconv``: protobuf timestamps to and from aware datetimes and epoch seconds.
- ``proto.limits``: wire limits shared by both sides.
"""

from proto import codes, identity, limits, records, timeconv, validate
from proto.generated import grpc_services, pb

__all__ = ["codes", "grpc_services", "identity", "limits", "pb", "records", "timeconv", "validate"]
