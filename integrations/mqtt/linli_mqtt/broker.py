"""The embedded broker (amqtt) a hub starts when ``mqtt:`` names no broker.

It listens on 127.0.0.1 only (anonymous clients, no ``$SYS`` topics), on ``embedded_port``
or, when that port is taken, on a free port named in a warning. A real Mosquitto or EMQX is
one config line away (``broker:``), and is what a busy community should run.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any, Final

from linli import SetupFailed

if TYPE_CHECKING:
    from amqtt.broker import Broker

    from linli import Hub

_LOGGER = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (as asyncio does, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _broker_config(port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


CHATTY_LOGGERS: Final = ("amqtt", "transitions")
"""amqtt (and the state-machine library under it) log every connection and state change at
INFO; the hub's log keeps their warnings unless ``logger:`` sets their level."""


def _quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def _make_broker(port: int) -> Broker:
    """An amqtt broker that closes every connection it accepted when that connection ends.

    amqtt 0.12 may leave a connection's transport open when closing it is cancelled (a client
    that disconnects, or a shutdown): the transport would then be collected unclosed.
    """
    import asyncio

    from amqtt.broker import Broker

    class _Broker(Broker):  # type: ignore[misc]  # amqtt is untyped
        async def stream_connected(
            self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
        ) -> None:
            try:
                await super().stream_connected(reader, writer, listener_name)
            finally:
                if not writer.is_closing():
                    writer.close()

    return _Broker(_broker_config(port))


class EmbeddedBroker:
    """An amqtt broker on the hub's loop."""

    def __init__(self, hub: Hub, port: int) -> None:
        self.hub = hub
        self.host = HOST
        self.port = port
        self._broker: Broker | None = None

    async def async_start(self) -> None:
        """Start listening; raise :class:`SetupFailed` when it cannot."""
        if not _port_is_free(self.port):
            wanted, self.port = self.port, _free_port()
            _LOGGER.warning(
                "Port %s is taken: the embedded MQTT broker listens on %s:%s instead",
                wanted,
                self.host,
                self.port,
            )
        from amqtt.errors import BrokerError

        _quiet_chatty_loggers()
        broker = _make_broker(self.port)
        try:
            await broker.start()
        except (BrokerError, OSError) as err:
            raise SetupFailed(f"cannot start the embedded MQTT broker: {err}") from err
        self._broker = broker
        _LOGGER.info("Embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def async_stop(self) -> None:
        """Stop the broker and close every client connection."""
        broker, self._broker = self._broker, None
        if broker is not None:
            try:
                await broker.shutdown()
            except Exception:
                _LOGGER.exception("Error stopping the embedded MQTT broker")
