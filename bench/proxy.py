"""A byte-counting TCP forwarder in its own process, between the agents and the hub.

The counts are what crosses the loopback sockets: TLS records (headers, padding, MACs),
HTTP/2 frames and gRPC framing included; TCP/IP headers and TCP acknowledgements are not.

It runs as a separate process (``python -m bench.proxy HOST PORT``) so that forwarding
neither takes the agents' GIL nor adds event-loop latency to their process. Protocol on
stdin/stdout, one line each: the proxy first prints its port; ``count`` answers
``UP DOWN CONNECTIONS`` (bytes agent->hub, bytes hub->agent since start); EOF stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 256 * 1024


@dataclass
class Counts:
    up: int = 0
    down: int = 0
    connections: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.up - other.up, self.down - other.down, self.connections)


class ProxyProcess:
    """Parent side: start the proxy, ask for counts, stop it."""

    def __init__(self, target: str, cwd: Path) -> None:
        host, _, port = target.rpartition(":")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.proxy", host, port],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=cwd,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"bench proxy did not start (said {line!r})")
        self.address = f"127.0.0.1:{int(line)}"
        self.pid = self._proc.pid

    def counts(self) -> Counts:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write("count\n")
        self._proc.stdin.flush()
        up, down, conns = (int(x) for x in self._proc.stdout.readline().split())
        return Counts(up, down, conns)

    def stop(self) -> None:
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()  # EOF on stdin ends the proxy
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# -- the proxy process ---------------------------------------------------------------------


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, add: list[int]) -> None:
    try:
        while data := await src.read(_CHUNK):
            add[0] += len(data)
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            dst.close()


async def _serve(host: str, port: int) -> None:
    up, down, conns = [0], [0], [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hub_reader, hub_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        conns[0] += 1
        # Python 3.11's start_server callback raises on a cancelled handler task (it calls
        # task.exception()), so a cancellation at shutdown ends the handler normally.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(_pump(reader, hub_writer, up), _pump(hub_reader, writer, down))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def commands() -> None:
        # Blocking stdin reads in a thread; the ints are read under the GIL, never torn.
        for line in sys.stdin:
            if line.strip() == "count":
                print(up[0], down[0], conns[0], flush=True)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=commands, daemon=True).start()
    async with server:
        await done.wait()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    asyncio.run(_serve(host, port))


if __name__ == "__main__":
    main()
