"""TLS and a username/password: a private Mosquitto that accepts nothing else.

The certificates are made for the test with openssl (a throwaway CA and a server certificate
for 127.0.0.1); the broker refuses anonymous clients and checks a password file.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linli import Hub
from linli.testing.plugin import HubFactory
from linli_mqtt import ReceiveMessage, async_publish, async_subscribe, get_mqtt
from linli_mqtt.testing import PrivateMosquitto, async_setup_mqtt_hub, async_wait_until

USER, PASSWORD = "hub", "a long broker password"


def _run(*args: str | Path) -> None:
    subprocess.run([str(arg) for arg in args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def tls_broker(tmp_path: Path, private_mosquitto: Any) -> Iterator[PrivateMosquitto]:
    """A private Mosquitto on TLS only, with one user; stopped after the test."""
    for tool in ("openssl", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    ca_key, ca, key, csr, cert = (
        tmp_path / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem")
    )
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        ca_key,
        "-out",
        ca,
        "-days",
        "1",
        "-subj",
        "/CN=Linli test CA",
    )
    _run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        csr,
        "-subj",
        "/CN=127.0.0.1",
    )
    extensions = tmp_path / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    _run(
        "openssl",
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        "1",
        "-extfile",
        extensions,
    )
    passwords = tmp_path / "passwd"
    _run("mosquitto_passwd", "-b", "-c", passwords, USER, PASSWORD)
    broker = PrivateMosquitto(tmp_path)
    text = broker.config_file.read_text(encoding="utf-8").replace(
        "allow_anonymous true", "allow_anonymous false"
    )
    broker.config_file.write_text(
        text + f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\npassword_file {passwords}\n",
        encoding="utf-8",
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_connects_over_tls_with_a_password(
    hub_factory: HubFactory, tls_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    hub: Hub = await hub_factory(start=False)
    await async_setup_mqtt_hub(
        hub,
        {
            "broker": tls_broker.host,
            "port": tls_broker.port,
            "username": USER,
            "password": PASSWORD,
            "tls": {"ca_certs": str(tmp_path / "ca.pem")},
            "discovery": False,
        },
    )
    client = get_mqtt(hub)
    assert client.connected
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, "site/gate/state", got.append, qos=1)
    await async_publish(hub, "site/gate/state", "open", qos=1)
    await async_wait_until(lambda: len(got) == 1, what="our own message back over TLS")
    assert got[0].payload == "open"
    assert PASSWORD not in repr(client.settings)
    await hub.async_stop()
