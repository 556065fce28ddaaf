"""Blueprints: shareable configuration templates in Home Assistant's blueprint schema.

A blueprint is a configuration (an automation, usually) with ``!input <name>`` where a user's
choice goes, and a ``blueprint:`` section declaring those inputs with their selectors. A
configuration uses one with ``use_blueprint: {path, input}``; :func:`resolve` (or
:func:`async_resolve_blueprint_automations` on a hub) turns it into the plain configuration,
which is then validated like any other.
"""

from linli.blueprint.importer import BlueprintImportError, ImportedBlueprint, import_blueprint
from linli.blueprint.models import (
    Blueprint,
    BlueprintError,
    BlueprintInputs,
    SubstitutedConfig,
    substitute,
)
from linli.blueprint.schema import (
    NO_DEFAULT,
    BlueprintInput,
    InputSection,
    is_blueprint_config,
    is_blueprint_instance_config,
    parse_blueprint,
)
from linli.blueprint.selectors import SELECTORS, SelectorType, check_value, validate_selector
from linli.blueprint.store import (
    BLUEPRINT_FOLDER,
    BlueprintFolder,
    FoundBlueprint,
    async_resolve_blueprint_automations,
    blueprint_folders,
    blueprint_usage,
    find_blueprint,
    hub_blueprint_folders,
    iter_blueprints,
    load_blueprint,
    read_automation_configs,
    resolve,
)

__all__ = [
    "BLUEPRINT_FOLDER",
    "NO_DEFAULT",
    "SELECTORS",
    "Blueprint",
    "BlueprintError",
    "BlueprintFolder",
    "BlueprintImportError",
    "BlueprintInput",
    "BlueprintInputs",
    "FoundBlueprint",
    "ImportedBlueprint",
    "InputSection",
    "SelectorType",
    "SubstitutedConfig",
    "async_resolve_blueprint_automations",
    "blueprint_folders",
    "blueprint_usage",
    "check_value",
    "find_blueprint",
    "hub_blueprint_folders",
    "import_blueprint",
    "is_blueprint_config",
    "is_blueprint_instance_config",
    "iter_blueprints",
    "load_blueprint",
    "parse_blueprint",
    "read_automation_configs",
    "resolve",
    "substitute",
    "validate_selector",
]
