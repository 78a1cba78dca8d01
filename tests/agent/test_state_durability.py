"""kill -9 of a process applying snapshots never leaves a half-applied state or loses a change.

A child process applies a sequence of snapshots as fast as it can, printing each index and
the seq counter after the commit returns; the test kills it with SIGKILL at random points,
reopens the file and checks it, then plays the hub: commits a random prefix of the outbox
and acks it, and restarts the child where the state says it stopped.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

from iplatform.v1.message_pb2 import Change

from agent.compaction import HubCopy, Pending
from agent.state import AgentState
from proto import pb, records
from proto.records import Key, Record
from tests.helpers.wait import eventually

CENTER = "KR-MR-0001"
ROOT = Path(__file__).resolve().parents[2]
KILLS = 6


def snapshot(i: int) -> list[Record]:
    """Snapshot number i: each differs from its neighbours in ~30% of 300 records."""
    out: list[Record] = []
    for n in range(300):
        if (n * 7 + i) % 10 == 0:
            continue  # a shifting tenth is absent: deletions and re-creations
        out.append(
            pb.Equipment(
                id=f"eq-{n}", name_en=f"v{(i + n) // 5}", status=pb.EQUIPMENT_STATUS_AVAILABLE
            )
        )
    return out


def child_main() -> None:
    """Run in the child: python -c '...child_main()' STATE_PATH START_INDEX."""
    path, start = Path(sys.argv[1]), int(sys.argv[2])
    state = AgentState(path, CENTER)
    for i in itertools.count(start):
        state.apply_snapshot("main", snapshot(i), max_delete_share=1.0)
        print(i, state.last_assigned_seq(), flush=True)


def as_bytes(recs: list[Record] | dict[Key, Record]) -> dict[Key, bytes]:
    items = recs.values() if isinstance(recs, dict) else recs
    return {records.key_of(r): records.canonical_bytes(r) for r in items}


def as_pending(ch: Change) -> Pending[bytes]:
    which = ch.WhichOneof("body")
    value = None if which == "deleted" else records.canonical_bytes(getattr(ch, which))
    return Pending(records.key_from_message(ch.key), ch.seq, value)


def run_and_kill(path: Path, start: int, lines_before_kill: int) -> list[tuple[int, int]]:
    """Start the child at snapshot ``start``; SIGKILL it once it reported enough commits."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.agent.test_state_durability import child_main; child_main()",
            str(path),
            str(start),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    reported: list[tuple[int, int]] = []

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            i, seq = line.split()
            reported.append((int(i), int(seq)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        eventually(
            lambda: len(reported) >= lines_before_kill or child.poll() is not None,
            timeout=30,
            what="child to commit snapshots",
        )
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        reader.join()
        errors = child.stderr.read()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, f"child died by itself:\n{errors}"
    assert reported, f"child reported nothing:\n{errors}"
    return reported


def test_sigkill_at_random_points_never_half_applies_or_loses_changes(tmp_path: Path) -> None:
    rnd = random.Random(20261127)
    path = tmp_path / "state.db"
    hub: HubCopy[bytes] = HubCopy()
    start, seq_seen = 0, 0
    for _ in range(KILLS):
        reported = run_and_kill(path, start, lines_before_kill=rnd.randint(1, 4))
        last_i, last_seq = reported[-1]
        assert [i for i, _ in reported] == list(range(start, last_i + 1))

        with AgentState(path, CENTER) as state:
            ours = as_bytes(state.load_records())
            # The last reported snapshot, or the next one if it committed but the print
            # was cut off: never a mix.
            applied = [j for j in (last_i, last_i + 1) if as_bytes(snapshot(j)) == ours]
            assert applied, "records are not any snapshot applied in full"
            assert state.last_assigned_seq() >= max(last_seq, seq_seen, hub.hwm)
            seq_seen = state.last_assigned_seq()

            pending = [as_pending(c) for c in state.pending(0, 100_000)]
            assert len({p.key for p in pending}) == len(pending) == state.backlog()
            assert all(p.seq > state.last_acked_seq() for p in pending)
            # Every change since the last ack is there: hub + outbox = our records.
            assert hub.apply(pending).values() == ours

            # Play the hub: commit a random prefix and acknowledge it.
            hub = hub.apply(pending[: rnd.randint(0, len(pending))])
            state.ack(hub.hwm)
            start = applied[0] + 1
