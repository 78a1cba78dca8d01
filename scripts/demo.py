"""Run a local hub and one demo center per industry, show the national view, change one
booking at one center and show it arriving at the hub, then ask for equipment once (a
one-stop request) and follow it until the centers accepted.

Everything goes through the real command-line tools (`iplat-hub`, `iplat-agent`)
as separate processes over real mutual TLS, on the embedded SQLite default.

    python scripts/demo.py [--dir demo-run] [--keep-running]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_data
import demo_routing

PY = sys.executable


def say(msg: str) -> None:
    print(f"\033[1m==> {msg}\033[0m", flush=True)


def run(*args: str) -> str:
    proc = subprocess.run([PY, "-m", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def wait_for(what: str, fn, timeout: float = 30.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    sys.exit(f"timed out waiting for {what}; see the logs under the demo directory")


def view(hub_dir: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(run("hub", "view", "--data-dir", str(hub_dir), "--json"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="demo-run", type=Path, help="work directory (recreated)")
    parser.add_argument("--keep-running", action="store_true", help="leave hub and agents running")
    args = parser.parse_args()
    root: Path = args.dir.resolve()
    if root.exists():
        shutil.rmtree(root)
    (root / "logs").mkdir(parents=True)
    hub_dir = root / "hub"
    procs: list[subprocess.Popen[bytes]] = []

    def stop_all() -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        say(f"hub: init in {hub_dir} (SQLite, new CA with ECDSA P-256)")
        run("hub", "init", "--data-dir", str(hub_dir), "--listen", "127.0.0.1:0")
        for c in demo_data.CENTERS:
            run(
                "hub",
                "center",
                "add",
                c.id,
                "--industry",
                c.industry,
                "--name-ko",
                c.name_ko,
                "--name-en",
                c.name_en,
                "--region",
                c.region,
                "--role",
                c.role,
                "--data-dir",
                str(hub_dir),
            )
        say("hub: serving gRPC with mutual TLS")
        log = (root / "logs" / "hub.log").open("wb")
        procs.append(
            subprocess.Popen(
                [PY, "-m", "hub", "serve", "--data-dir", str(hub_dir)], stdout=log, stderr=log
            )
        )
        serve_file = hub_dir / "serve.json"
        address = wait_for(
            "the hub to listen",
            lambda: serve_file.exists() and json.loads(serve_file.read_text())["grpc"],
        )

        now = datetime.now(UTC)
        expected = {}
        for c in demo_data.CENTERS:
            adir = root / "agents" / c.id
            run("agent", "init", "--center", c.id, "--hub", address, "--dir", str(adir))
            run(
                "hub",
                "center",
                "sign",
                str(adir / "agent.csr"),
                "--center",
                c.id,
                "--data-dir",
                str(hub_dir),
            )
            expected[c.id] = demo_data.write_center(c, adir, now)
            alog = (root / "logs" / f"agent-{c.id}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [PY, "-m", "agent", "run", "--config", str(adir / "agent.toml")],
                    stdout=alog,
                    stderr=alog,
                )
            )
        total = sum(e + n for e, n in expected.values())
        say(f"agents: {len(expected)} centers started, {total} records to sync")

        def synced() -> bool:
            got = {
                c["id"]: (len(c["equipment"]), sum(len(e["entries"]) for e in c["equipment"]))
                for c in view(hub_dir)["centers"]
            }
            return all(got.get(cid) == want for cid, want in expected.items())

        t0 = time.monotonic()
        wait_for("the initial sync", synced, timeout=60)
        say(f"initial sync complete in {time.monotonic() - t0:.2f} s; the national view:")
        print(run("hub", "view", "--data-dir", str(hub_dir)))

        center = demo_data.CENTERS[4]
        cal = root / "agents" / center.id / "calendar.csv"
        rows = demo_data.read_csv(cal)
        row = rows[0]
        start = datetime.fromisoformat(row["start"]) + timedelta(days=1)
        row["start"] = start.strftime("%Y-%m-%dT%H:%M")
        row["end"] = (start + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
        row["kind"] = "booked"
        say(
            f"{center.id}: moving booking {row['id']} to {row['start']}-{row['end'][11:]} "
            "(Asia/Seoul) in calendar.csv"
        )
        t0 = time.monotonic()
        demo_data.write_csv(cal, demo_data.CALENDAR_HEADER, rows)
        want_start = (
            start.replace(tzinfo=demo_data.SEOUL).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )

        def arrived() -> dict | None:  # type: ignore[type-arg]
            for c in view(hub_dir)["centers"]:
                if c["id"] != center.id:
                    continue
                for eq in c["equipment"]:
                    for e in eq["entries"]:
                        if e["id"] == row["id"] and e["start"] == want_start:
                            return e  # type: ignore[no-any-return]
            return None

        entry = wait_for("the changed booking at the hub", arrived, timeout=30, interval=0.01)
        say(
            f"hub has it after {(time.monotonic() - t0) * 1000:.0f} ms "
            f"(polling the CLI included): {json.dumps(entry)}"
        )
        say(
            "customer names stayed at the center: "
            + (
                "yes"
                if not any(
                    name in json.dumps(view(hub_dir), ensure_ascii=False)
                    for name in demo_data.CUSTOMERS
                )
                else "NO"
            )
        )
        demo_routing.run(root, hub_dir, say, wait_for)
        if args.keep_running:
            say(f"hub at {address}; logs in {root / 'logs'}; Ctrl-C to stop")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
