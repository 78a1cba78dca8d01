"""The running hub against its own /openapi.json, fuzzed by schemathesis.

For every operation, schemathesis generates requests from the document, valid ones
(positive) and ones that break it (negative), and checks each answer: never a 5xx, a
documented status, the documented content type, a body that matches the documented
schema (problem documents included), negative input refused with a 4xx, and the API key
really required. The SSE stream (GET /v1/feed) never ends, so it is left to
test_feed_streams.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub import config
from hub.store import Store
from tests.helpers import routing
from tests.helpers.hubenv import init_hub, running_hub
from tests.helpers.portal import Seeder, create_api_key, entry, equipment, http_address

EXAMPLES = 25
SKIP = {"/v1/feed"}
# schemathesis leaves out the operation serving the document itself (test_http_api checks it).
EXPECTED = {
    "/healthz",
    "/v1/centers",
    "/v1/centers/{center_id}",
    "/v1/centers/{center_id}/equipment",
    "/v1/centers/{center_id}/equipment/{equipment_id}",
    "/v1/equipment/search",
    "/v1/feed/changes",
    "/v1/snapshot",
    "/v1/centers/{center_id}/freebusy.ics",
    "/v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics",
    "/v1/requests",
    "/v1/requests/preview",
    "/v1/requests/{request_id}",
    "/v1/requests/{request_id}/items/{item_id}/proposal",
    "/v1/requests/{request_id}/cancel",
    "/v1/demand",
    "/v1/technology-areas",
}
NOW = int(time.time())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass
class Target:
    base_url: str
    key: str


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir = init_hub(tmp_path_factory.mktemp("hub"))
    store = Store.open(config.load(data_dir).database_url)
    try:
        s = Seeder(store)
        s.add_center("KR-MR-0001")
        s.add_center("KR-BI-0002", industry="bio")
        s.apply(
            "KR-MR-0001",
            equipment("EQ-1"),
            equipment("EQ-2", operating_hours=[]),
            entry("BK-1", "EQ-1", NOW + 3600, NOW + 7200),
            now=NOW,
        )
        # A request of the fuzzing key: listings and demand answers have items to check.
        requests = routing.requests_for(store, data_dir)
        requests.submit(routing.draft(NOW, hours=2), actor="apikey:fuzz")
        requests.record_demand("search-none-free", "cryo-tem")
    finally:
        store.close()
    with running_hub(data_dir) as hub:
        yield Target(f"http://{http_address(hub)}", create_api_key(data_dir, "fuzz"))


def _operations(target: Target) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{target.base_url}/openapi.json")
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if op.path not in SKIP]


def _has_parameters(op: schemathesis.APIOperation) -> bool:
    return bool(list(op.path_parameters) or list(op.query) or list(op.headers))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_honours_the_document(target: Target, mode: GenerationMode) -> None:
    operations = _operations(target)
    missing = EXPECTED - {op.path for op in operations}
    assert not missing, f"operations missing from /openapi.json: {sorted(missing)}"
    headers = {"Authorization": f"Bearer {target.key}"}
    checks = [*CHECKS, negative_data_rejection] if mode == GenerationMode.NEGATIVE else CHECKS
    for op in operations:
        if mode == GenerationMode.NEGATIVE and not _has_parameters(op):
            continue  # nothing to break (GET /healthz)

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=target.base_url, headers=headers, checks=checks)

        check()


def test_secured_operations_refuse_calls_without_a_key(target: Target) -> None:
    for op in _operations(target):
        if op.path in ("/healthz", "/openapi.json"):
            continue

        @given(case=op.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(
            max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=target.base_url,
                headers={"Authorization": f"Bearer {target.key}"},
                checks=[ignored_auth],
            )

        check()
