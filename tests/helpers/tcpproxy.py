"""A loopback TCP forwarder that counts the bytes crossing it and can cut links.

Sits between agents and the hub so tests and benchmarks can report real bytes
on the wire (TLS records included) and simulate a flaky link. Runs its own
event loop in a background thread so it works beside blocking test code.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field


@dataclass
class Counters:
    up: int = 0  # client -> server
    down: int = 0  # server -> client
    connections: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down


@dataclass
class TcpProxy:
    target_host: str
    target_port: int
    counters: Counters = field(default_factory=Counters)
    # One Counters per connection, in the order they were opened (reset() keeps them).
    links: list[Counters] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.base_events.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _accepting: bool = True

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self.port)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=main, name="tcpproxy", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def reset(self) -> Counters:
        """Return the counts so far and start counting from zero."""
        old = Counters(self.counters.up, self.counters.down, self.counters.connections)
        self.counters.up = self.counters.down = self.counters.connections = 0
        return old

    def cut(self, refuse_new: bool = False) -> None:
        """Drop every open connection (and refuse new ones if asked)."""
        self._accepting = not refuse_new
        assert self._loop is not None
        fut = asyncio.run_coroutine_threadsafe(self._close_all(), self._loop)
        fut.result(5)

    def heal(self) -> None:
        self._accepting = True

    def retarget(self, address: str) -> None:
        """Forward new connections to ``address`` (HOST:PORT); open ones stay where they are
        (``cut()`` them to move a client over, like a load balancer switching backends)."""
        host, port = address.rsplit(":", 1)
        self.target_host, self.target_port = host, int(port)

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)
        self._loop = None

    async def _shutdown(self) -> None:
        if self._server:
            self._server.close()
        await self._close_all()

    async def _close_all(self) -> None:
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    async def _open_link(
        self, writer: asyncio.StreamWriter
    ) -> tuple[Counters, asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Connect a new client to the target: its counters and the upstream ends, or None
        (client closed) when not accepting or the target is down."""
        if not self._accepting:
            writer.close()
            return None
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return None
        self.counters.connections += 1
        link = Counters(connections=1)
        self.links.append(link)
        self._writers.update((writer, up_writer))
        return link, up_reader, up_writer

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened = await self._open_link(writer)
        if opened is None:
            return
        link, up_reader, up_writer = opened
        await asyncio.gather(
            self._pump(reader, up_writer, link, (id(writer), "up")),
            self._pump(up_reader, writer, link, (id(writer), "down")),
            return_exceptions=True,
        )
        self._link_closed(id(writer))
        for w in (writer, up_writer):
            self._writers.discard(w)
            with contextlib.suppress(ConnectionError, OSError):
                w.close()

    def count(self, link: Counters, direction: str, n: int) -> None:
        """Add ``n`` bytes that crossed in ``direction`` ("up" or "down")."""
        for c in (self.counters, link):
            if direction == "up":
                c.up += n
            else:
                c.down += n

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        link: Counters,
        key: tuple[int, str],
    ) -> None:
        """Copy ``src`` to ``dst`` and count it; ``key`` is (connection, direction)."""
        try:
            while data := await src.read(65536):
                self.count(link, key[1], len(data))
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()

    def _link_closed(self, connection: int) -> None:
        """Both directions of ``connection`` ended (subclasses drop per-link state)."""
