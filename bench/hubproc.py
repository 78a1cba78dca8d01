"""The hub under test: ``iplat-hub init`` in-process, ``python -m hub serve`` as a subprocess.

The hub runs in its own process so it has a core of its own, as in production; the agents
run in the bench process. Databases: a SQLite file in the hub's data directory, or a fresh
PostgreSQL database created here and dropped afterwards (like tests/helpers/postgres.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from io import StringIO
from pathlib import Path

from hub import cli
from hub import config as hub_config
from hub.store import CenterInfo, Store

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "IPLAT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


@contextmanager
def database(store: str, directory: Path, name: str) -> Iterator[str]:
    """A fresh, empty database of kind ``store``; yields its SQLAlchemy URL."""
    if store == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / (name + '.db')}"
        return
    db = f"iplat_bench_{name}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{db}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def center_info(center_id: str) -> CenterInfo:
    return CenterInfo(
        id=center_id,
        name_ko=f"벤치마크 센터 {center_id}",
        name_en=f"Benchmark center {center_id}",
        industry="materials",
        region="대전",
        role="participating",
    )


def init_hub(data_dir: Path, db_url: str, center_ids: list[str]) -> hub_config.HubConfig:
    """``iplat-hub init`` and the centers registered (through the store: one open, not 50)."""
    out = StringIO()
    with redirect_stdout(out):
        code = cli.main(["init", "--data-dir", str(data_dir), "--db", db_url])
    if code != 0:
        raise RuntimeError(f"iplat-hub init failed: {out.getvalue()}")
    level = os.environ.get("IPLAT_BENCH_HUB_LOG")  # e.g. "debug": one line per batch
    if level:
        path = data_dir / hub_config.CONFIG_NAME
        text = path.read_text()
        path.write_text(text.replace('log_level = "info"', f'log_level = "{level}"', 1))
    cfg = hub_config.load(data_dir)
    with Store.open(cfg.database_url) as store:
        for center_id in center_ids:
            store.add_center(center_info(center_id))
    return cfg


class HubProcess:
    """``python -m hub serve`` on 127.0.0.1, port chosen by the OS (read from serve.json)."""

    def __init__(self, data_dir: Path, timeout: float = 60.0) -> None:
        self.data_dir = data_dir
        info_path = data_dir / hub_config.SERVE_INFO_NAME
        info_path.unlink(missing_ok=True)
        self.log_path = data_dir / "hub.log"
        # IPLAT_BENCH_HUB_PROFILE=FILE: run the hub under cProfile (its event-loop thread).
        profile = os.environ.get("IPLAT_BENCH_HUB_PROFILE")
        python = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else [])]
        # gRPC on a free port (never collides with another hub on this host); the portals'
        # HTTP API off: nothing here calls it, and the sync path does not depend on it.
        serve = ["-m", "hub", "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"]
        serve += ["--http-listen", ""]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*python, *serve],
                stdout=log,
                stderr=log,
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError, ValueError, KeyError):
                info = json.loads(info_path.read_text())
                if info["pid"] == self.process.pid:
                    self.address = str(info["grpc"])
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"hub did not start within {timeout}s: {self.log_tail()}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User + system CPU time the hub process has used so far."""
        return cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
