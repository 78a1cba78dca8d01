"""A TcpProxy whose link can be slow and can hold back what one side sends.

The routing fault tests use it to let a delivery reach the agent while the agent's
acknowledgement never reaches the hub (``hold("up")``), then kill the hub in that window.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from tests.helpers.e2e import Procs
from tests.helpers.tcpproxy import Counters, TcpProxy


def link_proxy(procs: Procs, address: str, latency: float = 0.0) -> LinkProxy:
    """A LinkProxy to ``address``, stopped with ``procs``."""
    host, port = address.rsplit(":", 1)
    proxy = LinkProxy(host, int(port), latency=latency)
    proxy.start()
    procs.proxies.append(proxy)
    return proxy


@dataclass
class LinkProxy(TcpProxy):
    """A TcpProxy whose link can be slow (``latency`` seconds each way) and can hold back
    what one side sends: ``hold("up")`` keeps the agent's messages (acknowledgements,
    answers) from the hub while the hub's still arrive, ``hold("down")`` the reverse.
    ``cut()`` drops the held bytes with the connections. What was read from one side
    before it died is still passed on to the other, as the network would."""

    latency: float = 0.0
    holding: set[str] = field(default_factory=set)
    _held: dict[tuple[int, str], bytearray] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def hold(self, direction: str) -> None:
        assert direction in ("up", "down"), direction
        self.holding.add(direction)

    def release(self) -> None:
        """Stop holding for new connections; bytes held so far go with the next cut()."""
        self.holding.clear()

    def held_bytes(self, direction: str) -> int:
        return sum(len(b) for (_, d), b in list(self._held.items()) if d == direction)

    async def _close_all(self) -> None:
        await super()._close_all()
        self._held.clear()

    async def _shutdown(self) -> None:
        await super()._shutdown()
        # Let the connections' tasks see their ends before the loop stops.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await super()._handle(reader, writer)
        finally:
            self._tasks.discard(task)

    def _link_closed(self, connection: int) -> None:
        for direction in ("up", "down"):
            self._held.pop((connection, direction), None)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        link: Counters,
        key: tuple[int, str],
    ) -> None:
        """Copy ``src`` to ``dst``, ``latency`` seconds late, unless held."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        direction = key[1]
        held = self._held.setdefault(key, bytearray())

        async def send() -> None:
            while (entry := await queue.get()) is not None:
                due, data = entry
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                dst.write(data)
                await dst.drain()

        sender = asyncio.create_task(send())
        try:
            while data := await src.read(65536):
                if direction in self.holding or held:
                    # Once anything is held, everything after it is too: a TLS stream
                    # passed on with a gap would only be garbage to the other side.
                    held.extend(data)
                    continue
                self.count(link, direction, len(data))
                queue.put_nowait((loop.time() + self.latency, data))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(ConnectionError, OSError):
                await sender
            dst.close()
