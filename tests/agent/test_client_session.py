"""agent.client.Session and agent.runner.Agent in-process against a real hub subprocess:
batching with bounded in-flight batches, refusals, TLS name checks, the refusal backoff."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.client import Session
from agent.config import AgentConfig, load_config
from agent.errors import RefusedError, SyncError
from agent.pki import load_tls
from agent.runner import Agent
from agent.state import AgentState
from agent.status import BACKOFF, K_CONN, K_LAST_ERROR, K_LAST_ERROR_AT, K_RETRY_AT, LiveStatus
from proto import pb
from tests.helpers import hubenv
from tests.helpers.agentenv import (
    AgentDir,
    hub_records,
    hub_sync_state,
    make_agent_dir,
    new_center_id,
    run_agent_cli,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import aeventually

INFLIGHT = 3


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = hubenv.init_hub(
        tmp_path_factory.mktemp("hub"),
        settings={"max_inflight_batches": INFLIGHT, "heartbeat_seconds": 2},
    )
    with hubenv.running_hub(data_dir) as running:
        yield running


def _config(hub: RunningHub, tmp_path: Path, **sync: object) -> AgentConfig:
    ad = make_agent_dir(hub, tmp_path / "agent", new_center_id())
    ad.set_sync(**sync)
    return load_config(ad.config)


async def _session_until(
    config: AgentConfig, state: AgentState, done: asyncio.Event, timeout: float = 60
) -> Session:
    """Run one Session until ``done`` is set; re-raise what the session raised."""
    session = Session(
        config, state, load_tls(config.tls, config.center_id), asyncio.Event(), LiveStatus(state)
    )
    await asyncio.wait_for(session.run(done), timeout)
    return session


def test_batches_follow_each_other_with_bounded_inflight(
    hub: RunningHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(hub, tmp_path, batch_changes=200)
    state = AgentState(config.state_path, config.center_id)
    records = [
        pb.Equipment(id=f"EQ-{i:04d}", name_ko="장비", category="c", status=1) for i in range(2500)
    ]
    state.apply_snapshot("bulk", records, max_delete_share=0.5)
    caplog.set_level(logging.DEBUG, logger="agent")

    async def main() -> Session:
        done = asyncio.Event()
        run = asyncio.create_task(_session_until(config, state, done))
        await aeventually(lambda: asyncio.to_thread(lambda: state.backlog() == 0), timeout=60)
        done.set()
        return await run

    try:
        session = asyncio.run(main())
    finally:
        state.close()
    assert session.settings.max_inflight_batches == INFLIGHT
    assert session.settings.heartbeat_seconds == 2
    sent = [r.__dict__ for r in caplog.records if r.getMessage() == "batch_sent"]
    fields = [s["iplat_fields"] for s in sent]
    assert len(fields) == 13  # 2500 changes, 200 per batch
    assert max(f["inflight"] for f in fields) <= INFLIGHT
    assert max(f["changes"] for f in fields) <= 200
    for before, after in itertools.pairwise(fields):
        assert after["prev_seq"] == before["last_seq"]
    assert hub_sync_state(hub, config.center_id).hwm == 2500
    assert len(hub_records(hub, config.center_id)) == 2500


def test_invalid_record_is_not_sent_and_says_what_to_do(hub: RunningHub, tmp_path: Path) -> None:
    config = _config(hub, tmp_path)
    with AgentState(config.state_path, config.center_id) as state:
        # A source bug slipped a record without status past the agent's checks.
        state.apply_snapshot(
            "buggy", [pb.Equipment(id="EQ-1", name_ko="장비")], max_delete_share=0.5
        )
        with pytest.raises(RefusedError) as exc:
            asyncio.run(_session_until(config, state, asyncio.Event()))
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "'EQ-1'" in str(exc.value) and "status is unspecified" in str(exc.value)
    assert "Fix the record in its source" in str(exc.value)
    assert exc.value.retryable is False
    assert hub_sync_state(hub, config.center_id).hwm == 0


def _unregistered(hub: RunningHub, tmp_path: Path) -> AgentConfig:
    """An agent whose certificate the hub's CA issued, for a center the hub does not know."""
    center = new_center_id("KR-X")
    directory = tmp_path / "agent"
    code, _, err = run_agent_cli(
        "init", "--center", center, "--hub", hub.address, "--dir", str(directory)
    )
    assert code == 0, err
    files = hub.issue_client(center, out_dir=tmp_path / "issued")
    files.key.replace(directory / "agent.key")
    files.cert.replace(directory / "agent.crt")
    files.ca.replace(directory / "ca.pem")
    ad = AgentDir(directory, center)
    ad.set_sync(backoff_initial_seconds=0.1, backoff_max_seconds=3.0)
    return load_config(ad.config)


def test_unregistered_center_is_refused_by_the_hub(hub: RunningHub, tmp_path: Path) -> None:
    config = _unregistered(hub, tmp_path)
    with (
        AgentState(config.state_path, config.center_id) as state,
        pytest.raises(RefusedError) as exc,
    ):
        asyncio.run(_session_until(config, state, asyncio.Event()))
    assert exc.value.code == "PERMISSION_DENIED"
    assert "center not registered" in str(exc.value)
    assert f"the hub refused center {config.center_id}" in str(exc.value)


def test_wrong_server_name_fails_as_tls_problem(hub: RunningHub, tmp_path: Path) -> None:
    config = _config(hub, tmp_path)
    wrong = dataclasses.replace(
        config, tls=dataclasses.replace(config.tls, server_name="not-the-hub.example")
    )
    with AgentState(config.state_path, config.center_id) as state:
        with pytest.raises(SyncError) as exc:
            asyncio.run(_session_until(wrong, state, asyncio.Event()))
        assert not isinstance(exc.value, RefusedError)
        assert exc.value.code == "UNAVAILABLE"
        assert "TLS handshake failed" in str(exc.value)

        # The name the hub's certificate does carry is accepted.
        right = dataclasses.replace(
            config, tls=dataclasses.replace(config.tls, server_name="localhost")
        )

        async def welcomed() -> Session:
            done = asyncio.Event()
            run = asyncio.create_task(_session_until(right, state, done))
            await aeventually(
                lambda: asyncio.to_thread(lambda: state.get_meta("live.hub_hwm") == "0")
            )
            done.set()
            return await run

        assert asyncio.run(welcomed()).welcomed


def test_a_balancer_dropping_connections_reads_as_hub_down_not_certificates(
    hub: RunningHub, tmp_path: Path
) -> None:
    # A TCP load balancer whose hub is stopped: it accepts each connection and closes it.
    balancer = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drop() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = balancer.accept()
                conn.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    config = _config(hub, tmp_path)
    port = balancer.getsockname()[1]
    behind = dataclasses.replace(config, hub=f"127.0.0.1:{port}")
    try:
        with (
            AgentState(config.state_path, config.center_id) as state,
            pytest.raises(SyncError) as exc,
        ):
            asyncio.run(_session_until(behind, state, asyncio.Event()))
    finally:
        stop.set()
        balancer.close()
        thread.join(timeout=5)
    assert exc.value.code == "UNAVAILABLE"
    assert "most likely down or restarting" in str(exc.value), str(exc.value)


def test_refused_agent_waits_the_longest_backoff(hub: RunningHub, tmp_path: Path) -> None:
    config = _unregistered(hub, tmp_path)
    # Created up front: the test reads it while the agent runs (and opening a brand-new
    # state file from two connections at once can fail while it switches to WAL).
    AgentState(config.state_path, config.center_id).close()

    async def main() -> dict[str, str | None]:
        agent = Agent(config, shutdown_timeout=5)
        run = asyncio.create_task(agent.run())

        async def in_backoff() -> dict[str, str | None] | None:
            def read() -> dict[str, str | None]:
                keys = (K_CONN, K_LAST_ERROR, K_LAST_ERROR_AT, K_RETRY_AT)
                with AgentState(config.state_path, config.center_id) as reader:
                    return {k: reader.get_meta(k) for k in keys}

            meta = await asyncio.to_thread(read)
            return meta if meta[K_CONN] == BACKOFF else None

        try:
            meta = await aeventually(in_backoff, timeout=30)
        finally:
            agent.shutdown()
            agent.shutdown()  # idempotent
            await run
        return meta  # type: ignore[return-value]

    meta = asyncio.run(main())
    assert "center not registered" in (meta[K_LAST_ERROR] or "")
    pause = float(meta[K_RETRY_AT] or 0) - float(meta[K_LAST_ERROR_AT] or 0)
    assert 1.5 <= pause <= 3.0  # half to all of backoff_max, never the 0.1 s initial delay
    with AgentState(config.state_path, config.center_id) as state:
        assert state.get_meta(K_CONN) == "stopped"
