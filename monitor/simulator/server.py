"""Run simulated services as real aiohttp apps on loopback, one port each.

Each app also has a control route, `PUT /__sim__/behavior?path=/health` with a JSON behavior
(see `Behavior.from_json`), so a test in another process can make a service fail or recover.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from monitor.http.app import bound_port
from monitor.simulator.behavior import Behavior
from monitor.simulator.fleet import SimService
from monitor.simulator.heartbeats import Heartbeat
from monitor.simulator.mcp_endpoint import mcp_handler

MCP_PATH = "/mcp"
BANNER_EXPECTED = "^220 "

CONTROL_PATH = "/__sim__/behavior"
_STATE: web.AppKey[_Service] = web.AppKey("sim_service")


@dataclass
class _Service:
    spec: SimService
    routes: dict[str, Behavior]
    rng: random.Random
    served: int = 0
    hits: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Requests per (path, User-Agent): which client asked for what (sharding tests)."""
    runner: web.AppRunner | None = None
    port: int = 0
    banner_server: asyncio.Server | None = None
    banner_port: int = 0
    started: float = field(default_factory=time.monotonic)
    injected: list[float] | None = None
    """Every latency the server injected (seconds), for benchmarks measuring error: the time
    the answer was actually held, timer overshoot included, not the delay asked for. None
    unless the fleet was built with `record_latency=True` (it grows with every request)."""
    first_request: dict[str, float] = field(default_factory=dict)
    """Loop time of each path's first request since its behavior was set (for `then`)."""

    def behavior(self, path: str, now: float) -> Behavior | None:
        """The route's behavior now, moving on to its `then` once `then_after` has passed."""
        behavior = self.routes.get(path)
        while behavior is not None and behavior.then is not None:
            first = self.first_request.setdefault(path, now)
            if now - first < behavior.then_after:
                break
            self.first_request[path] = first + behavior.then_after  # the next timer starts here
            behavior = self.routes[path] = behavior.then
        return behavior

    def set(self, path: str, behavior: Behavior) -> None:
        self.routes[path] = behavior
        self.first_request.pop(path, None)


async def _handle(request: web.Request) -> web.StreamResponse:
    service = request.app[_STATE]
    behavior = service.behavior(request.path, asyncio.get_running_loop().time())
    if behavior is None:
        return web.Response(status=404, text="404 Not Found", content_type="text/plain")
    service.served += 1
    service.hits[request.path, request.headers.get("User-Agent", "")] += 1
    delay = behavior.latency.sample(service.rng)
    headers = dict(behavior.headers)
    if behavior.rpc is not None:
        rpc = behavior.rpc.sample(service.rng)
        if behavior.rpc_drift_per_min:
            rpc += behavior.rpc_drift_per_min * (time.monotonic() - service.started) / 60
        delay = max(delay, rpc)
        headers["Server-Timing"] = f'rpc;dur={rpc * 1000:.3f};desc="{service.spec.name}"'
    if delay > 0:
        held = time.perf_counter()
        await asyncio.sleep(delay)
        if service.injected is not None:
            service.injected.append(time.perf_counter() - held)
    return web.Response(
        status=behavior.status,
        body=behavior.render_body().encode(),
        content_type=behavior.content_type,
        headers=headers,
    )


async def _control(request: web.Request) -> web.Response:
    service = request.app[_STATE]
    path = request.query.get("path", "/health")
    try:
        behavior = Behavior.from_json(await request.json())
    except (ValueError, TypeError, KeyError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    service.set(path, behavior)
    return web.json_response(
        {"service": service.spec.name, "path": path, "status": behavior.status}
    )


def _app(service: _Service) -> web.Application:
    app = web.Application()
    app[_STATE] = service
    app.router.add_put(CONTROL_PATH, _control)
    if service.spec.mcp_tools:
        app.router.add_post(MCP_PATH, mcp_handler(service.spec.mcp_tools, service.spec.name))
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


class SimulatedFleet:
    """`async with SimulatedFleet(seed_fleet()) as fleet: fleet.url("auth")`."""

    def __init__(
        self,
        services: Iterable[SimService],
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        seed: int = 1,
        record_latency: bool = False,
    ) -> None:
        self.host = host
        self.base_port = base_port
        self._services = {
            s.name: _Service(
                spec=s,
                routes=dict(s.routes),
                rng=random.Random(f"{seed}:{s.name}"),
                injected=[] if record_latency else None,
            )
            for s in services
        }

    @property
    def names(self) -> list[str]:
        return list(self._services)

    def spec(self, name: str) -> SimService:
        return self._services[name].spec

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self._services[name].port}"

    def tcp_address(self, name: str) -> str:
        """`host:port` of the service's banner server (services with a `banner`)."""
        return f"{self.host}:{self._services[name].banner_port}"

    def served(self, name: str) -> int:
        return self._services[name].served

    def hits(self, name: str) -> Counter[tuple[str, str]]:
        return self._services[name].hits

    def injected(self, name: str) -> list[float]:
        """What `name` injected so far (needs `record_latency=True`)."""
        injected = self._services[name].injected
        if injected is None:
            raise RuntimeError("build the fleet with record_latency=True to keep injected latency")
        return injected

    def set_behavior(self, name: str, behavior: Behavior, path: str = "/health") -> None:
        self._services[name].set(path, behavior)

    async def start(self) -> None:
        for index, service in enumerate(self._services.values()):
            runner = web.AppRunner(_app(service), access_log=None, shutdown_timeout=0.25)
            await runner.setup()
            port = self.base_port + index if self.base_port else 0
            try:
                site = web.TCPSite(runner, self.host, port)
                await site.start()
            except OSError:  # a fixed port is taken: take any free one rather than fail
                site = web.TCPSite(runner, self.host, 0)
                await site.start()
            service.port = bound_port(site)
            service.runner = runner
        # banner servers take the ports after the services' (8711 for the demo's email)
        banner_port = self.base_port + len(self._services) if self.base_port else 0
        for service in self._services.values():
            if service.spec.banner is not None:
                try:
                    server = await _banner_server(service.spec.banner, self.host, banner_port)
                except OSError:  # taken, as for the services: any free port
                    server = await _banner_server(service.spec.banner, self.host, 0)
                service.banner_server = server
                service.banner_port = server.sockets[0].getsockname()[1]
                if banner_port:
                    banner_port += 1

    async def stop(self) -> None:
        for service in self._services.values():
            if service.banner_server is not None:
                service.banner_server.close()
                await service.banner_server.wait_closed()
                service.banner_server = None
            if service.runner is not None:
                await service.runner.cleanup()
                service.runner = None

    async def __aenter__(self) -> SimulatedFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _banner_server(banner: str, host: str, port: int) -> asyncio.Server:
    """A TCP server on loopback that sends `banner` as its first line and hangs up."""

    async def greet(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(banner.encode() + b"\r\n")
            await writer.drain()
        except OSError:  # the client left first: nothing to greet
            pass
        finally:
            writer.close()

    return await asyncio.start_server(greet, host, port)


def fleet_config(
    fleet: SimulatedFleet,
    *,
    interval: str = "5s",
    timeout: str = "2s",
    heartbeats: Sequence[Heartbeat] = (),
    every_kind: bool = False,
) -> dict[str, object]:
    """A monitor.yaml (as data) that watches every service of a running simulated fleet, and
    expects the given heartbeats as push checks of their services. With `every_kind`, also
    the services' http (with CEL `expect:`), mcp and tcp checks, as `monitor demo` shows them."""
    services = []
    for name in fleet.names:
        spec = fleet.spec(name)
        entry: dict[str, object] = {"name": name, "url": fleet.url(name)}
        if spec.depends_on:
            entry["depends_on"] = list(spec.depends_on)
        if spec.rpc:
            entry["rpc"] = [{"name": n, "path": p} for n, p in spec.rpc.items()]
        if pushed := [beat.config() for beat in heartbeats if beat.service == name]:
            entry["push"] = pushed
        if every_kind:
            entry.update(_protocol_checks(fleet, spec))
        services.append(entry)
    return {"defaults": {"interval": interval, "timeout": timeout}, "services": services}


def _protocol_checks(fleet: SimulatedFleet, spec: SimService) -> dict[str, object]:
    checks: dict[str, object] = {}
    if spec.http:
        checks["http"] = [
            {"name": n, "path": path, "expect": {"cel": cel}}
            for n, (path, cel) in spec.http.items()
        ]
    if spec.mcp_tools:
        checks["mcp"] = [{"name": "tools", "path": MCP_PATH, "expect_tools": list(spec.mcp_tools)}]
    if spec.banner is not None:
        checks["tcp"] = [
            {
                "name": "banner",
                "address": fleet.tcp_address(spec.name),
                "expect_banner": BANNER_EXPECTED,
            }
        ]
    return checks


def fleet_config_yaml(fleet: SimulatedFleet, **kwargs: Any) -> str:
    return json.dumps(fleet_config(fleet, **kwargs), indent=2)  # JSON is valid YAML
