"""A small SyncService speaking the routing part of the protocol, on real gRPC + mutual TLS.

Until the hub's own routing exists this is the agent's counterpart in tests: a real
``grpc.aio`` server (in a thread of its own, so a test can drive it while an agent runs
in-process or as a subprocess) that behaves as the contract says the hub does:

- Welcome, then every delivery above the center's acknowledged seq, in seq order, on every
  new stream; new ones as the test adds them;
- DeliveryAck is cumulative; one above the highest seq sent on the stream aborts the stream
  with INVALID_ARGUMENT (recorded in ``protocol_errors``: a test asserts there are none);
- every ItemAnswer gets an AnswerAck from ``verdict`` (APPLIED by default);
- batches get Acks (so an agent with records can run against it), heartbeats are ignored.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from proto import grpc_services, pb
from tests.helpers.pki import TestPki

Verdict = Callable[[Any], tuple[int, str, int]]


def applied(answer: Any) -> tuple[int, str, int]:
    state = {
        pb.ANSWER_KIND_ACCEPT: pb.ITEM_STATE_ACCEPTED,
        pb.ANSWER_KIND_PROPOSE: pb.ITEM_STATE_PROPOSED,
        pb.ANSWER_KIND_DECLINE: pb.ITEM_STATE_DECLINED,
    }[answer.kind]
    return pb.ANSWER_OUTCOME_APPLIED, "", state


@dataclass(eq=False)
class _Stream:
    sent: int
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    drop: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeHub(grpc_services.SyncServiceServicer):  # type: ignore[misc]
    def __init__(self, test_pki: TestPki, center_id: str) -> None:
        self.pki = test_pki
        self.center_id = center_id
        self.deliveries: list[Any] = []
        self.acked = 0
        self.ack_log: list[int] = []
        self.answers: list[Any] = []
        self.protocol_errors: list[str] = []
        self.streams = 0
        self.hwm = 0
        self.verdict: Verdict = applied
        self.ack_answers = True
        """False: answers are recorded but never acknowledged (a hub that went away)."""
        self._lock = threading.Lock()
        self._active: set[_Stream] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- test side (any thread) ---------------------------------------------------------

    def start(self) -> FakeHub:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.stop(None))
            loop.close()

        self._thread = threading.Thread(target=main, name="fakehub", daemon=True)
        self._thread.start()
        assert ready.wait(30), "fake hub did not start"
        return self

    async def _start(self) -> None:
        server = grpc.aio.server()
        grpc_services.add_SyncServiceServicer_to_server(self, server)
        creds = grpc.ssl_server_credentials(
            [(self.pki.server.key_pem, self.pki.server.cert_pem)],
            root_certificates=self.pki.bundle,
            require_client_auth=True,
        )
        self.port = server.add_secure_port("127.0.0.1:0", creds)
        await server.start()
        self._server = server

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    def _add(self, delivery: Any) -> int:
        with self._lock:
            delivery.seq = len(self.deliveries) + 1
            self.deliveries.append(delivery)
            seq = int(delivery.seq)
        self._wake_all("wake")
        return seq

    def add_item(self, work: Any) -> int:
        return self._add(pb.Delivery(item=work))

    def add_withdrawal(self, item_id: str, reason: str) -> int:
        return self._add(pb.Delivery(withdrawal=pb.Withdrawal(item_id=item_id, reason=reason)))

    def forget_acks(self) -> None:
        """As if the hub lost its acks: the next stream resends every delivery."""
        with self._lock:
            self.acked = 0

    def drop_streams(self) -> None:
        """End every open stream with UNAVAILABLE (a broken link)."""
        self._wake_all("drop")

    def _wake_all(self, which: str) -> None:
        loop = self._loop
        if loop is None:
            return

        def wake() -> None:
            for stream in list(self._active):
                getattr(stream, which).set()

        loop.call_soon_threadsafe(wake)

    # -- server side (the hub's loop) ---------------------------------------------------

    async def Sync(self, request_iterator: Any, context: Any) -> None:
        hello = await context.read()
        if hello is grpc.aio.EOF or hello.WhichOneof("msg") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Hello first")
        with self._lock:
            self.streams += 1
            stream = _Stream(sent=self.acked)
        self._active.add(stream)
        try:
            await self._write(stream, context, pb.SyncResponse(welcome=pb.Welcome(
                high_water_mark=self.hwm, settings=pb.Settings(heartbeat_seconds=1)
            )))  # fmt: skip
            tasks = [
                asyncio.ensure_future(self._pump(stream, context)),
                asyncio.ensure_future(self._reader(stream, context)),
                asyncio.ensure_future(stream.drop.wait()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if tasks[2] in done:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "link dropped by the test")
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            self._active.discard(stream)

    async def _write(self, stream: _Stream, context: Any, response: Any) -> None:
        async with stream.lock:
            await context.write(response)

    async def _pump(self, stream: _Stream, context: Any) -> None:
        while True:
            stream.wake.clear()
            with self._lock:
                pending = [d for d in self.deliveries if d.seq > stream.sent]
            for delivery in pending:
                await self._write(stream, context, pb.SyncResponse(delivery=delivery))
                stream.sent = int(delivery.seq)
            await stream.wake.wait()

    async def _reader(self, stream: _Stream, context: Any) -> None:
        while True:
            request = await context.read()
            if request is grpc.aio.EOF:
                return
            kind = request.WhichOneof("msg")
            if kind == "delivery_ack":
                seq = int(request.delivery_ack.seq)
                if seq > stream.sent:
                    self.protocol_errors.append(f"DeliveryAck {seq} above sent {stream.sent}")
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ack ahead")
                with self._lock:
                    self.ack_log.append(seq)
                    self.acked = max(self.acked, seq)
            elif kind == "item_answer":
                answer = request.item_answer
                with self._lock:
                    self.answers.append(answer)
                if not self.ack_answers:
                    continue
                outcome, message, state = self.verdict(answer)
                ack = pb.AnswerAck(
                    answer_seq=answer.answer_seq,
                    item_id=answer.item_id,
                    outcome=outcome,
                    message=message,
                    item_state=state,
                )
                await self._write(stream, context, pb.SyncResponse(answer_ack=ack))
            elif kind == "batch":
                if request.batch.changes:
                    self.hwm = max(self.hwm, int(request.batch.changes[-1].seq))
                ack = pb.Ack(high_water_mark=self.hwm, applied=len(request.batch.changes))
                await self._write(stream, context, pb.SyncResponse(ack=ack))
