"""Configuration: YAML loading with file:line locations, and readable validation issues."""

from linli.config.humanize import issues_from_invalid, located
from linli.config.issues import ConfigError, ConfigIssue
from linli.config.yaml_loader import (
    Input,
    NodeDict,
    NodeList,
    NodeStr,
    Secrets,
    load_config_file,
    load_yaml,
)

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "Input",
    "NodeDict",
    "NodeList",
    "NodeStr",
    "Secrets",
    "issues_from_invalid",
    "load_config_file",
    "load_yaml",
    "located",
]
