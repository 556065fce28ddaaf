"""The HTTP server: binds its sockets at setup, serves from ``linli_start`` to ``linli_stop``."""

from __future__ import annotations

import errno
import logging
import socket
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from aiohttp import web

from linli.components.http.const import (
    CONF_ACCESS_LOG,
    CONF_BASE_URL,
    CONF_CORS_ALLOWED_ORIGINS,
    CONF_MAX_REQUEST_SIZE,
    CONF_SERVER_HOST,
    CONF_SERVER_PORT,
    CONF_TRUSTED_PROXIES,
    DEFAULT_SERVER_HOST,
    KEY_HUB,
    SHUTDOWN_TIMEOUT,
)
from linli.components.http.middleware import (
    Middleware,
    access_log_middleware,
    auth_middleware,
    cors_middleware,
    forwarded_middleware,
    size_limit_middleware,
)
from linli.exceptions import SetupFailed

if TYPE_CHECKING:
    from linli.components.http.view import HubView
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

WILDCARDS = frozenset({"0.0.0.0", "::", ""})


class HttpServer:
    """The hub's aiohttp application and the sockets it listens on."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        """Build the application from the validated ``http:`` section (nothing bound yet)."""
        self.hub = hub
        hosts = config[CONF_SERVER_HOST]
        self.hosts: tuple[str, ...] = (hosts,) if isinstance(hosts, str) else tuple(hosts)
        self.requested_port: int = config[CONF_SERVER_PORT]
        self.port: int = self.requested_port
        self.max_request_size: int = config[CONF_MAX_REQUEST_SIZE]
        self._base_url: str | None = config.get(CONF_BASE_URL)
        trusted = [ip_network(net, strict=False) for net in config[CONF_TRUSTED_PROXIES]]
        middlewares: list[Middleware] = []
        if config[CONF_ACCESS_LOG]:
            middlewares.append(access_log_middleware)
        middlewares.append(forwarded_middleware(trusted))
        if config[CONF_CORS_ALLOWED_ORIGINS]:
            middlewares.append(cors_middleware(config[CONF_CORS_ALLOWED_ORIGINS]))
        middlewares += [size_limit_middleware(self.max_request_size), auth_middleware(hub)]
        self.app = web.Application(middlewares=middlewares, client_max_size=self.max_request_size)
        self.app[KEY_HUB] = hub
        self._sockets: list[socket.socket] = []
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ views
    def register_view(self, view: HubView) -> None:
        """Add a view's routes; only before the server starts (the router freezes then)."""
        if self._runner is not None:
            raise RuntimeError(
                f"Cannot register view {view.name}: the HTTP server has started; register "
                "views in async_setup"
            )
        view.register(self.app.router)

    # ------------------------------------------------------------------ sockets
    @property
    def base_url(self) -> str:
        """The URL clients should use: ``base_url`` from the config, else a guess."""
        if self._base_url:
            return self._base_url.rstrip("/")
        host = self.hosts[0]
        if host in WILDCARDS:
            host = _primary_address()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def bind(self) -> None:
        """Bind every configured host; raise SetupFailed with the reason when one fails.

        With port 0 the first socket picks a free port and the others take the same. The
        default IPv6 wildcard is skipped quietly where the machine has no IPv6.
        """
        port = self.requested_port
        try:
            for host in self.hosts:
                try:
                    sock = _listen_socket(host, port)
                except OSError as err:
                    optional = host == "::" and tuple(self.hosts) == DEFAULT_SERVER_HOST
                    if optional and err.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                        _LOGGER.debug("No IPv6 here (%s); listening on IPv4 only", err)
                        continue
                    shown = f"[{host}]" if ":" in host else host
                    raise SetupFailed(
                        f"cannot listen on {shown}:{port}: {err.strerror or err}"
                        + (" (is another server using that port?)" if _in_use(err) else "")
                    ) from err
                self._sockets.append(sock)
                port = sock.getsockname()[1]
        except SetupFailed:
            self.close_sockets()
            raise
        self.port = port

    def close_sockets(self) -> None:
        """Close sockets bound but never served (setup failed, or the hub never started)."""
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    # ------------------------------------------------------------------ lifecycle
    async def async_start(self) -> None:
        """Freeze the app and start serving on the bound sockets."""
        if self._runner is not None or not self._sockets:
            return
        runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        self._runner = runner
        await runner.setup()
        for sock in self._sockets:
            site = web.SockSite(runner, sock)
            await site.start()
        _LOGGER.info("Serving HTTP on %s (base URL %s)", self._describe(), self.base_url)

    async def async_stop(self) -> None:
        """Stop accepting, let open requests finish (briefly), close everything."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.close_sockets()

    def _describe(self) -> str:
        names = []
        for sock in self._sockets:
            host, port = sock.getsockname()[:2]
            names.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        return ", ".join(names)


def _listen_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _in_use(err: OSError) -> bool:
    return err.errno == errno.EADDRINUSE


def _primary_address() -> str:
    """The address other machines most likely reach this one at (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address: str = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return address
