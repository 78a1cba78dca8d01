"""Machine checks: Python version, hub address, TCP reach, clock skew."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from installer import checks
from installer.errors import ClockSkewError, HubUnreachableError, PythonTooOldError, UsageError
from tests.installer.support import closed_port


def test_python_version() -> None:
    assert "Python 3.11.0" in checks.check_python((3, 11, 0))
    with pytest.raises(PythonTooOldError, match=r"3\.10\.12 .* needs Python 3\.11"):
        checks.check_python((3, 10, 12))


@pytest.mark.parametrize(
    ("text", "host", "port", "shown"),
    [
        ("hub.example.kr:7443", "hub.example.kr", 7443, "hub.example.kr:7443"),
        ("127.0.0.1:1", "127.0.0.1", 1, "127.0.0.1:1"),
        ("[::1]:7443", "::1", 7443, "[::1]:7443"),
    ],
)
def test_hub_address(text: str, host: str, port: int, shown: str) -> None:
    hub = checks.HubAddress.parse(text)
    assert (hub.host, hub.port, str(hub)) == (host, port, shown)


@pytest.mark.parametrize("text", ["hub.example.kr", "hub:0", "hub:70000", ":7443", "a b:1"])
def test_bad_hub_address_says_how_to_write_it(text: str) -> None:
    with pytest.raises(UsageError, match="HOST:PORT"):
        checks.HubAddress.parse(text)


def test_reach_fails_fast_naming_the_address_and_the_firewall() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as info:
        checks.check_reach(checks.HubAddress("127.0.0.1", port), timeout=5)
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "refused" in message
    assert "open outbound TCP" in message and "firewall" in message


def test_reach_names_an_unresolvable_host() -> None:
    with pytest.raises(HubUnreachableError, match=r"cannot resolve .*no-such-host\.invalid"):
        checks.check_reach(checks.HubAddress("no-such-host.invalid", 7443), timeout=2)


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _issued_at(hub_now: datetime) -> datetime:
    """notBefore the hub writes when its clock says ``hub_now``."""
    return hub_now - checks.HUB_BACKDATE


@pytest.mark.parametrize("ahead", [timedelta(0), timedelta(seconds=20), timedelta(seconds=-30)])
def test_small_skew_is_ok(ahead: timedelta) -> None:
    skew = checks.clock_skew(_issued_at(NOW), NOW + ahead)
    assert skew == ahead
    assert checks.check_skew(skew).startswith("clock ok")


def test_skew_over_a_minute_warns() -> None:
    note = checks.check_skew(checks.clock_skew(_issued_at(NOW), NOW + timedelta(minutes=3)))
    assert note.startswith("WARNING") and "180 s ahead of" in note


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(minutes=-10)])
def test_skew_over_five_minutes_fails_with_the_fix(ahead: timedelta) -> None:
    with pytest.raises(ClockSkewError, match="timedatectl set-ntp true"):
        checks.check_skew(checks.clock_skew(_issued_at(NOW), NOW + ahead))
