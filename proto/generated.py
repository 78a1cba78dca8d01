"""One namespace for the generated modules, so callers write ``pb.Equipment``.

The generated files live in ``iplatform/v1`` (the protobuf package path), which
setuptools maps to ``proto/iplatform``.
"""

from types import SimpleNamespace

from iplatform.v1 import (
    availability_pb2,
    availability_pb2_grpc,
    enums_pb2,
    feed_pb2,
    feed_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    message_pb2,
    routing_pb2,
    routing_pb2_grpc,
    sync_pb2,
    sync_pb2_grpc,
    view_pb2,
    view_pb2_grpc,
)


def _merge(*modules: object) -> SimpleNamespace:
    ns: dict[str, object] = {}
    for module in modules:
        for name in dir(module):
            if not name.startswith("_"):
                ns[name] = getattr(module, name)
    return SimpleNamespace(**ns)


pb = _merge(
    enums_pb2,
    message_pb2,
    identity_pb2,
    sync_pb2,
    view_pb2,
    feed_pb2,
    availability_pb2,
    routing_pb2,
)
grpc_services = _merge(
    identity_pb2_grpc,
    sync_pb2_grpc,
    view_pb2_grpc,
    feed_pb2_grpc,
    availability_pb2_grpc,
    routing_pb2_grpc,
)

# The modules themselves, for type annotations and descriptors.
modules = (
    enums_pb2,
    message_pb2,
    identity_pb2,
    sync_pb2,
    view_pb2,
    feed_pb2,
    availability_pb2,
    routing_pb2,
)
