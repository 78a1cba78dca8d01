"""One renewal exchange (agent.rotation.Rotator.renew) against a real hub subprocess: the
hub's certificate for a new key is installed; a renewal cut off because the session closed
its channel is an ordinary, retryable failure, never a cancellation of the renewal loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from agent import pki
from agent.client import open_channel
from agent.config import load_config
from agent.errors import SyncError
from agent.rotation import Rotator
from tests.helpers import hubenv
from tests.helpers.agentenv import make_agent_dir, new_center_id
from tests.helpers.hubenv import RunningHub


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with hubenv.running_hub(hubenv.init_hub(tmp_path_factory.mktemp("hub"))) as running:
        yield running


def test_renew_installs_a_new_pair_and_a_closed_channel_is_a_retryable_failure(
    hub: RunningHub, tmp_path: Path
) -> None:
    ad = make_agent_dir(hub, tmp_path / "agent", new_center_id())
    config = load_config(ad.config)
    material = pki.load_tls(config.tls, config.center_id)
    rotator = Rotator(config, lambda: None)

    async def main() -> None:
        # The session ends (closes its channel) while the renewal is on the wire.
        channel = open_channel(config, material)
        renewal = asyncio.create_task(rotator.renew(channel, material, "test"))
        await asyncio.sleep(0)  # let the call start
        await channel.close()
        with pytest.raises(SyncError, match="session ended"):
            await renewal
        # ... or before it started.
        with pytest.raises(SyncError, match="session ended"):
            await rotator.renew(channel, material, "test")
        assert rotator.renewals == 0
        assert (ad.dir / "agent.crt").read_bytes() == material.cert_pem

        channel = open_channel(config, material)
        try:
            await rotator.renew(channel, material, "test")
        finally:
            await channel.close()

    asyncio.run(main())
    assert rotator.renewals == 1
    renewed = pki.load_tls(config.tls, config.center_id)
    assert renewed.key_pem != material.key_pem
    assert renewed.identity == material.identity
    serial = x509.load_pem_x509_certificate(renewed.cert_pem).serial_number
    assert serial != x509.load_pem_x509_certificate(material.cert_pem).serial_number
