"""Fixtures of the mqtt tests: the shared broker, private brokers, peers and a connected hub."""

from linli_mqtt.testing import (
    mqtt_base_topic,
    mqtt_broker,
    mqtt_hub,
    mqtt_hub_config,
    mqtt_hub_plugins,
    mqtt_peer,
    private_mosquitto,
)

__all__ = [
    "mqtt_base_topic",
    "mqtt_broker",
    "mqtt_hub",
    "mqtt_hub_config",
    "mqtt_hub_plugins",
    "mqtt_peer",
    "private_mosquitto",
]
