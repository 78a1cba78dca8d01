"""The hub's gRPC server: mutual TLS, the services, health, reflection, shutdown.

One port serves everything: Sync, View, Feed, certificate renewal, and enrollment for
callers that have no certificate yet. The portal-facing HTTP/JSON API (:mod:`hub.http`,
``[http] listen``) runs in the same event loop, beside it, sharing the store threads and
the feed follower (:mod:`hub.feed`). Every peer must present a certificate chaining to
``pki/bundle.pem`` or to a bootstrap CA derived from one of its CAs (:mod:`hub.tls`); the
TLS handshake fails otherwise, and :mod:`hub.auth` then decides per method, checking
revocation on every call. TLS material is reloaded without a restart and evictions made
by other processes are followed within a poll interval (:mod:`hub.maintenance`).

The store is blocking, so its calls run on a dedicated thread pool (:class:`StoreAccess`);
on SQLite, writes are serialized in-process, because SQLite admits one writer and
busy-waiting threads would only burn the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from iplatform.v1 import (
    availability_pb2,
    feed_pb2,
    identity_pb2,
    routing_pb2,
    sync_pb2,
    view_pb2,
)

from hub import auth, logs
from hub.availability_service import AvailabilityService
from hub.cert_service import CertificateService
from hub.config import HubConfig, parse_listen
from hub.enroll_service import EnrollmentService
from hub.errors import ConfigError, ServeError, StoreError
from hub.feed import FeedFollower
from hub.feed_service import FeedService
from hub.health.fleet import FleetHealth
from hub.maintenance import Maintenance
from hub.metrics import HubMetrics, package_version
from hub.pki import write_atomic
from hub.ratelimit import FailureLimiter
from hub.revocation import Revocations
from hub.routing.dispatch import Dispatcher
from hub.routing.guide import GuideError
from hub.routing.requests import Requests
from hub.routing.router import Router
from hub.routing_service import RoutingService
from hub.store import Store
from hub.sync_service import SyncService
from hub.tls import ServerTls
from hub.view_service import ViewService
from proto import grpc_services, limits

log = logging.getLogger("hub.server")
T = TypeVar("T")

SERVICE_NAMES = (
    sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name,
    view_pb2.DESCRIPTOR.services_by_name["ViewService"].full_name,
    availability_pb2.DESCRIPTOR.services_by_name["AvailabilityService"].full_name,
    feed_pb2.DESCRIPTOR.services_by_name["FeedService"].full_name,
    identity_pb2.DESCRIPTOR.services_by_name["EnrollmentService"].full_name,
    identity_pb2.DESCRIPTOR.services_by_name["CertificateService"].full_name,
    routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name,
)


class StoreAccess:
    """Runs blocking store calls on worker threads without blocking the event loop."""

    def __init__(self, store: Store, threads: int) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hub-store")
        self._write_lock = asyncio.Lock() if store.dialect == "sqlite" else None
        self.on_error: Callable[[], None] | None = None
        """Called for every StoreError (counted in /metrics as iplat_store_errors_total)."""

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))
        except StoreError:
            if self.on_error is not None:
                self.on_error()
            raise

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._write_lock is None:
            return await self.read(fn, *args, **kwargs)
        async with self._write_lock:
            return await self.read(fn, *args, **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def server_options(config: HubConfig) -> list[tuple[str, Any]]:
    keepalive_ms = config.server.keepalive_seconds * 1000
    return [
        ("grpc.max_receive_message_length", limits.MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", limits.MAX_MESSAGE_BYTES),
        # Liveness of idle agents is HTTP/2 pings in gRPC's C core, not Python work.
        ("grpc.keepalive_time_ms", keepalive_ms),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Agents may ping every 10 s; faster pingers get GOAWAY (too_many_pings).
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 3),
        # Without this a second hub could bind the same port and split traffic.
        ("grpc.so_reuseport", 0),
    ]


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class HubServer:
    """One hub process: ``await start()``, then ``await wait()``; ``shutdown()`` is idempotent."""

    def __init__(
        self,
        config: HubConfig,
        *,
        listen: str | None = None,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        http_listen: str | None = None,
    ) -> None:
        self.config = config
        self._listen = listen or config.listen
        self._http_listen = config.http.listen if http_listen is None else http_listen
        self._http: Any = None  # hub.http.app.HttpServer, imported only when enabled
        self.feed: FeedFollower | None = None
        self.http_address = ""
        self._store = store
        self._owns_store = store is None
        self._clock = clock
        self._server: grpc.aio.Server | None = None
        self._access: StoreAccess | None = None
        self._health: Any = None
        self._stopped = asyncio.Event()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._maintenance_task: asyncio.Task[None] | None = None
        self.address = ""
        self.sync: SyncService | None = None
        # Operator metrics (/metrics): process counters and the per-center collector.
        self.metrics = HubMetrics(self._stream_count, package_version())
        self.tls: ServerTls | None = None
        self.maintenance: Maintenance | None = None
        # One-stop routing (hub.routing): requests, deliveries on the streams, the sweeper.
        self.router: Router | None = None
        self.dispatcher: Dispatcher | None = None
        self._sweeper_task: asyncio.Task[None] | None = None
        self._sweeper_stop = asyncio.Event()

    async def start(self) -> str:
        """Open the store, bind, start serving; return the bound ``HOST:PORT``."""
        cfg = self.config
        host, port = parse_listen(self._listen)
        try:
            # Checked when the config loaded; read again here, before anything is opened.
            guide = await asyncio.to_thread(cfg.routing.load_guide)
        except GuideError as exc:
            raise ConfigError(f"{exc}; fix the file or [routing] guide in hub.toml") from None
        self.tls = tls = ServerTls(cfg.pki_paths)
        creds = tls.credentials()
        if self._store is None:
            self._store = await asyncio.to_thread(Store.open, cfg.database_url)
        self._access = access = StoreAccess(self._store, cfg.server.store_threads)
        # Loaded before the port opens: a revoked certificate is refused from the first call.
        revocations = Revocations(
            await access.read(self._store.revocation_snapshot, int(self._clock()))
        )
        authenticator = auth.Authenticator(cfg.trust_domain, tls, revocations)
        server = grpc.aio.server(
            interceptors=[auth.AuthInterceptor(authenticator)], options=server_options(cfg)
        )
        self.sync = SyncService(access, cfg.trust_domain, cfg.sync, self._clock)
        self.sync.metrics = self.metrics.sync
        access.on_error = self.metrics.sync.store_error
        self.maintenance = Maintenance(
            access, self.sync, tls, revocations, cfg.server.reload_poll_seconds, self._clock
        )
        self.sync.on_session_start = self.maintenance.on_session_start
        requests = Requests(
            self._store, guide, cfg.routing, cfg.sync.stale_after_seconds, self._clock
        )
        self.router = router = Router(requests, access)
        self.dispatcher = Dispatcher(router, cfg.routing.delivery_poll_seconds)
        router.notify = self.dispatcher.wake
        self.sync.dispatcher = self.dispatcher
        grpc_services.add_SyncServiceServicer_to_server(self.sync, server)
        grpc_services.add_ViewServiceServicer_to_server(
            ViewService(access, cfg.sync.stale_after_seconds, self._clock), server
        )
        grpc_services.add_AvailabilityServiceServicer_to_server(
            AvailabilityService(access, cfg.sync.stale_after_seconds, self._clock, router=router),
            server,
        )
        self.feed = feed = FeedFollower(access, cfg.feed, cfg.sync.stale_after_seconds, self._clock)
        await feed.start()
        grpc_services.add_FeedServiceServicer_to_server(
            FeedService(access, feed, cfg.sync.stale_after_seconds, authenticator, self._clock),
            server,
        )
        limiter = FailureLimiter(cfg.enroll.max_failures, cfg.enroll.failure_window_seconds)
        grpc_services.add_EnrollmentServiceServicer_to_server(
            EnrollmentService(access, cfg, tls, limiter, self._clock), server
        )
        grpc_services.add_CertificateServiceServicer_to_server(
            CertificateService(access, cfg, tls, self._clock), server
        )
        grpc_services.add_RoutingServiceServicer_to_server(
            RoutingService(router, cfg.trust_domain), server
        )
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        try:
            bound = server.add_secure_port(_address(host, port), creds)
        except RuntimeError as exc:
            bound = 0
            reason = str(exc)
        else:
            reason = "address in use or not local"
        if not bound:
            await feed.close()
            await self._close_store()
            raise ServeError(
                f"cannot listen on {self._listen} ({reason}); stop the other process or pick "
                "another address with --listen HOST:PORT"
            )
        if self._http_listen:
            try:
                await self._start_http(access, feed)
            except BaseException:
                await server.stop(None)
                await feed.close()
                await self._close_store()
                raise
        await server.start()
        self._server = server
        self._maintenance_task = asyncio.create_task(self.maintenance.run())
        self._sweeper_task = asyncio.create_task(router.run_sweeper(self._sweeper_stop))
        self.address = _address(host, bound)
        write_atomic(
            cfg.serve_info_path,
            json.dumps(
                {"grpc": self.address, "http": self.http_address or None, "pid": os.getpid()}
            ).encode(),
        )
        logs.event(
            log,
            "listening",
            address=self.address,
            http=self.http_address or None,
            trust_domain=cfg.trust_domain,
            database=self._store.dialect,
            pid=os.getpid(),
        )
        return self.address

    async def _start_http(self, access: StoreAccess, feed: FeedFollower) -> None:
        # Imported here: a hub with the HTTP API turned off never loads aiohttp.
        from hub.http.app import HttpServer
        from hub.http.context import ApiContext
        from hub.http.routes_ops import OpsContext

        http = HttpServer(
            ApiContext(
                access,
                feed,
                self.config,
                self._clock,
                ops=OpsContext(FleetHealth(access, self.config, self._clock), self.metrics),
                router=self.router,
            ),
            self._http_listen,
            self.config.server.shutdown_grace_seconds,
        )
        self.http_address = await http.start()
        self._http = http

    def _stream_count(self) -> int:
        return len(self.sync.connected()) if self.sync is not None else 0

    async def wait(self) -> None:
        await self._stopped.wait()

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        await self.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await self.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        logs.event(log, "signal", signal=sig.name)
        self._begin_shutdown()

    def _begin_shutdown(self) -> asyncio.Task[None]:
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self._shutdown())
        return self._shutdown_task

    async def shutdown(self) -> None:
        """Stop accepting calls, end open streams after their current message, close the store.

        Idempotent and safe to call concurrently (a signal and a ``finally``): every caller
        waits for the one shutdown.
        """
        await asyncio.shield(self._begin_shutdown())

    async def _shutdown(self) -> None:
        task, self._maintenance_task = self._maintenance_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # The sweeper finishes the sweep in progress (its transactions are short).
        self._sweeper_stop.set()
        sweeper, self._sweeper_task = self._sweeper_task, None
        if sweeper is not None:
            await sweeper
        # Feed streams (Watch and SSE) end when the follower closes: they would otherwise
        # hold the graceful shutdown for its whole grace period.
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.close()
        http, self._http = self._http, None
        if http is not None:
            await http.stop()
        server, self._server = self._server, None
        if server is not None:
            grace = self.config.server.shutdown_grace_seconds
            logs.event(log, "shutting_down", grace_seconds=grace)
            if self._health is not None:
                await self._health.enter_graceful_shutdown()
            if self.sync is not None:
                self.sync.close_all("hub shutting down; reconnect shortly")
            await server.stop(grace)
            self._remove_serve_info()
            logs.event(log, "stopped")
        if self.dispatcher is not None:
            await self.dispatcher.close()
        await self._close_store()
        self._stopped.set()

    async def _close_store(self) -> None:
        access, self._access = self._access, None
        if access is not None:
            await asyncio.to_thread(access.close)
        if self._owns_store and self._store is not None:
            store, self._store = self._store, None
            await asyncio.to_thread(store.close)

    def _remove_serve_info(self) -> None:
        path = self.config.serve_info_path
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if info.get("pid") == os.getpid():
            path.unlink(missing_ok=True)


async def serve(
    config: HubConfig, listen: str | None = None, http_listen: str | None = None
) -> None:
    """Run a hub until a signal stops it (``iplat-hub serve``)."""
    hub = HubServer(config, listen=listen, http_listen=http_listen)
    # The hub allocates many short-lived objects per batch; after start-up, moving the
    # long-lived ones out of the collector's sight and collecting less often cut hub CPU
    # per record by 20-30% in bench/ (docs/benchmarks.md).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        await hub.run()
    finally:
        await hub.shutdown()
