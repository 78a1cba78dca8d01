"""Optional CPU timeline (``IPLAT_BENCH_TRACE=1``): where the cores went, 100 ms at a time."""

from __future__ import annotations

import os
import threading
import time

from bench.hubproc import cpu_seconds


class CpuTrace:
    """Samples the CPU seconds of some processes every ``interval`` in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def enabled() -> bool:
        return os.environ.get("IPLAT_BENCH_TRACE", "") not in ("", "0")

    def _sample(self) -> None:
        self.samples.append(
            (time.perf_counter(), {k: cpu_seconds(p) for k, p in self._pids.items()})
        )

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> CpuTrace:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def render(self) -> str:
        lines = ["    t(s)  " + "  ".join(f"{k:>6}" for k in self._pids) + "   (% of one core)"]
        t0 = self.samples[0][0]
        for (ta, a), (tb, b) in zip(self.samples, self.samples[1:], strict=False):
            dt = tb - ta
            cells = "  ".join(f"{(b[k] - a[k]) / dt * 100:6.0f}" for k in self._pids)
            lines.append(f"  {tb - t0:6.2f}  {cells}")
        return "\n".join(lines)
