"""Plugins written against upstream floe-core (``floe_core.plugins.ComputePlugin``).

Such a plugin has four members beyond the kit's contract (:data:`EXTRA_MEMBERS`) and no
``config_model``: upstream passes every method floe-core's generic ``ComputeConfig``, whose
free ``connection`` dict holds the engine settings, and may name a settings model through
``get_config_schema()``. This module decides which model the kit generates configs from:

- ``get_config_schema()`` returns a ``ComputeConfig``-shaped model (it has ``connection``
  or ``plugin``): that model, as it is;
- it returns a bare settings model: floe-core's ``ComputeConfig`` whose ``connection`` that
  model validates (the plugin still receives a plain dict, as upstream gives it);
- it returns ``None`` (or something that is not a model): floe-core's generic
  ``ComputeConfig``, and the kit fills ``connection`` from the dbt adapter's credentials
  schema (:mod:`.strategies._connections`, check ``upstream.connection_profile``).

It runs where the plugin is loaded (the host, or in-process), so floe-core is importable
whenever it matters; this module never imports it otherwise.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Final, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, create_model

__all__ = [
    "CAPABILITY",
    "EXTRA_MEMBERS",
    "UPSTREAM_BASE",
    "UPSTREAM_CONFIG",
    "connection_keys",
    "free_connection",
    "implied_capabilities",
    "is_upstream",
    "unreachable_connection",
    "upstream_config_model",
]

#: floe-core's plugin base class, as "module.qualname" (never imported to be found).
UPSTREAM_BASE: Final = "floe_core.plugins.compute.ComputePlugin"
#: floe-core's generic config: ``connection`` is a free dict.
UPSTREAM_CONFIG: Final = "floe_core.compute_config.ComputeConfig"
#: What floe-core's ComputePlugin has that the kit's does not.
EXTRA_MEMBERS: Final = (
    "is_self_hosted",
    "get_dbt_macro_paths",
    "augment_dbt_profile",
    "get_config_schema",
)
#: The capability a plugin has when it subclasses floe-core's ComputePlugin (or claims it).
CAPABILITY: Final = "floe_core_interface"


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def is_upstream(obj: object) -> bool:
    """True when ``obj`` (a class or an instance) subclasses floe-core's ComputePlugin."""
    cls = obj if isinstance(obj, type) else type(obj)
    try:
        return any(_qualname(base) == UPSTREAM_BASE for base in cls.__mro__)
    except Exception:  # a hostile metaclass: then it is not one we recognise
        return False


def _generic_config() -> type[BaseModel] | None:
    module_name, _, name = UPSTREAM_CONFIG.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _as_dict(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _unchanged(value: Any) -> Any:
    return value


def _connection_model(generic: type[BaseModel], settings: type[BaseModel]) -> type[BaseModel]:
    """``generic`` whose ``connection`` is validated by ``settings`` and stays a dict."""
    connection = Annotated[
        settings,  # type: ignore[valid-type]  # a model class known only at run time
        AfterValidator(_as_dict),
        PlainSerializer(_unchanged, return_type=dict[str, Any]),
    ]
    model: type[BaseModel] = create_model(
        f"{settings.__name__}Compute",
        __base__=generic,
        __module__=__name__,
        connection=(connection, Field(default_factory=dict, validate_default=True)),
    )
    return model


def upstream_config_model(instance: object) -> type[BaseModel] | None:
    """The config model the kit uses for an upstream plugin; None when floe-core is absent.

    Never raises: a ``get_config_schema()`` that raises or returns something else falls
    back to the generic model, and check ``upstream.config_schema`` reports it.
    """
    generic = _generic_config()
    if generic is None:
        return None
    try:
        declared = instance.get_config_schema()  # type: ignore[attr-defined]
    except Exception:
        return generic
    if not (isinstance(declared, type) and issubclass(declared, BaseModel)):
        return generic
    fields = declared.model_fields
    if "connection" in fields or "plugin" in fields:
        return declared
    try:
        return _connection_model(generic, declared)
    except Exception:  # a settings model pydantic cannot nest
        return generic


def free_connection(model: type[Any]) -> bool:
    """True when ``model`` has a ``connection`` field that is a free ``dict[str, Any]``."""
    fields = getattr(model, "model_fields", {})
    field = fields.get("connection") if isinstance(fields, dict) else None
    if field is None:
        return False
    annotation = field.annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is not dict:
        return False
    args = get_args(annotation)
    return not args or args[1] is Any


def implied_capabilities(instance: object) -> frozenset[str]:
    """What an upstream plugin claims by its shape: it has no ``capabilities`` attribute.

    Subclassing floe-core's ComputePlugin claims its interface; overriding
    ``get_catalog_attachment_sql`` (floe-core's default returns None) claims catalog
    attachment, so the kit checks the SQL it returns.
    """
    cls = type(instance)
    claimed = {CAPABILITY}
    try:
        mro = cls.__mro__
        base = next(b for b in mro if _qualname(b) == UPSTREAM_BASE)
        if getattr(cls, "get_catalog_attachment_sql", None) is not getattr(
            base, "get_catalog_attachment_sql", None
        ):
            claimed.add("catalog_attachment")
    except Exception:  # noqa: S110 - a hostile class: claim only the interface
        pass
    return frozenset(claimed)


def connection_keys(model: type[Any]) -> frozenset[str] | None:
    """The keys ``model``'s ``connection`` declares; None when it declares none.

    A free dict declares none (any key goes); a settings model (from
    ``get_config_schema()``) declares its fields.
    """
    fields = getattr(model, "model_fields", {})
    field = fields.get("connection") if isinstance(fields, dict) else None
    if field is None or free_connection(model):
        return None
    annotation = field.annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    declared = getattr(annotation, "model_fields", None)
    return frozenset(declared) if isinstance(declared, dict) else None


def unreachable_connection(model: type[Any], path: str, port: int) -> dict[str, Any] | None:
    """A ``connection`` dict naming a missing file and a closed loopback port, or None.

    None when ``model`` keeps its settings elsewhere than in ``connection``.
    """
    if "connection" not in getattr(model, "model_fields", {}):
        return None
    wanted: dict[str, Any] = {"path": path, "host": "127.0.0.1", "port": port}
    keys = connection_keys(model)
    if keys is None:
        return wanted if free_connection(model) else None
    chosen = {k: v for k, v in wanted.items() if k in keys}
    return chosen or None
