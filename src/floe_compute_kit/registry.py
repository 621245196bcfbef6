"""Finding and loading compute plugins.

Discovery reads the ``floe.computes`` entry-point group through
importlib.metadata, like pluggy's ``load_setuptools_entrypoints``: nothing is
imported until a plugin is asked for, and every failure names the entry point
and the distribution that supplied it.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Final

from floe_compute_kit.compute import ComputePlugin
from floe_compute_kit.errors import (
    ComputeError,
    DuplicatePluginError,
    PluginLoadError,
    PluginNotFoundError,
    RegistryLoadError,
)
from floe_compute_kit.models import ComputeConfig, parse_config

if TYPE_CHECKING:
    from floe_compute_kit.manifest import Hierarchy, Manifest

__all__ = [
    "ENTRY_POINT_GROUP",
    "ApprovedComputes",
    "ComputeRegistry",
    "PluginInfo",
    "discover_plugins",
    "load_plugin",
    "resolve_plugin_class",
]

ENTRY_POINT_GROUP: Final = "floe.computes"


@dataclass(frozen=True)
class PluginInfo:
    """One discovered entry point, before anything is imported."""

    name: str
    value: str
    distribution: str
    distribution_version: str
    entry_point: EntryPoint = field(repr=False, compare=False)

    @property
    def spec(self) -> str:
        return f"{self.name} = {self.value}"

    def load_class(self) -> type[ComputePlugin]:
        """Import the plugin class; PluginLoadError names the cause and the supplier."""
        try:
            obj = self.entry_point.load()
        except Exception as exc:
            raise PluginLoadError(
                f"cannot load compute plugin {self.name!r} from entry point "
                f"'{self.spec}' (distribution {self.distribution} {self.distribution_version}): "
                f"{type(exc).__name__}: {exc}",
                plugin_name=self.name,
                entry_point=self.spec,
                distribution=f"{self.distribution} {self.distribution_version}",
                reason="".join(traceback.format_exception_only(exc)).strip(),
            ) from exc
        supplier = f"{self.distribution} {self.distribution_version}"
        return _check_class(obj, self.spec, plugin_name=self.name, distribution=supplier)


def _check_class(
    obj: object, spec: str, *, plugin_name: str | None, distribution: str | None
) -> type[ComputePlugin]:
    if isinstance(obj, type) and issubclass(obj, ComputePlugin):
        return obj
    raise PluginLoadError(
        f"{spec!r} refers to {obj!r}, which is not a ComputePlugin subclass",
        plugin_name=plugin_name,
        entry_point=spec,
        distribution=distribution,
        reason="not a ComputePlugin subclass",
    )


def discover_plugins(group: str = ENTRY_POINT_GROUP) -> dict[str, PluginInfo]:
    """Every installed compute plugin by name, without importing any of them.

    The same distribution found twice on sys.path counts once; two different
    distributions claiming one name raise DuplicatePluginError.
    """
    found: dict[str, PluginInfo] = {}
    for ep in entry_points(group=group):
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            value=ep.value,
            distribution=dist.name if dist is not None else "<unknown>",
            distribution_version=dist.version if dist is not None else "",
            entry_point=ep,
        )
        previous = found.get(ep.name)
        if previous is None:
            found[ep.name] = info
        elif (previous.distribution, previous.value) != (info.distribution, info.value):
            raise DuplicatePluginError(
                ep.name,
                [
                    f"{previous.distribution} {previous.distribution_version} ({previous.value})",
                    f"{info.distribution} {info.distribution_version} ({info.value})",
                ],
            )
    return found


def resolve_plugin_class(spec: str, group: str = ENTRY_POINT_GROUP) -> type[ComputePlugin]:
    """A plugin class from ``module:Attribute`` or an entry-point name."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            obj: object = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            raise PluginLoadError(
                f"cannot load compute plugin {spec!r}: {type(exc).__name__}: {exc}",
                entry_point=spec,
                reason="".join(traceback.format_exception_only(exc)).strip(),
            ) from exc
        return _check_class(obj, spec, plugin_name=None, distribution=None)
    plugins = discover_plugins(group)
    if spec not in plugins:
        raise PluginNotFoundError(spec, list(plugins))
    return plugins[spec].load_class()


def load_plugin(spec: str, group: str = ENTRY_POINT_GROUP) -> ComputePlugin:
    """An instance of the plugin named by ``spec`` (see resolve_plugin_class)."""
    return resolve_plugin_class(spec, group)()


class ComputeRegistry(Mapping[str, ComputePlugin]):
    """Loaded plugin instances by name, loaded on first use.

    ``registry["nope"]`` raises PluginNotFoundError listing what is installed.
    """

    def __init__(self, plugins: Mapping[str, PluginInfo] | None = None) -> None:
        self._infos = dict(discover_plugins() if plugins is None else plugins)
        self._loaded: dict[str, ComputePlugin] = {}

    @property
    def infos(self) -> Mapping[str, PluginInfo]:
        return self._infos

    def __getitem__(self, name: str) -> ComputePlugin:
        if name not in self._loaded:
            if name not in self._infos:
                raise PluginNotFoundError(name, list(self._infos))
            self._loaded[name] = self._infos[name].load_class()()
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._infos))

    def __len__(self) -> int:
        return len(self._infos)

    def __contains__(self, name: object) -> bool:
        """Membership never imports a plugin, and never raises for an unknown name."""
        return name in self._infos


class ApprovedComputes(ComputeRegistry):
    """The computes a manifest approves: each discovered, loaded and configured.

    Built by :meth:`from_manifest`, which tries every approved compute and raises
    one RegistryLoadError naming each that failed and why (US3-AS1, SC-003).
    ``configs`` holds each compute's validated manifest-level config.
    """

    def __init__(
        self,
        infos: Mapping[str, PluginInfo],
        plugins: Mapping[str, ComputePlugin],
        configs: Mapping[str, ComputeConfig],
    ) -> None:
        super().__init__(infos)
        self._loaded = dict(plugins)
        self.configs: Mapping[str, ComputeConfig] = dict(configs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)  # manifest order, not sorted

    @classmethod
    def from_manifest(
        cls,
        source: Manifest | Hierarchy,
        *,
        plugins: Mapping[str, PluginInfo] | None = None,
    ) -> ApprovedComputes:
        """Load every approved compute of ``source`` or raise one aggregate error."""
        from floe_compute_kit.manifest import Hierarchy  # noqa: PLC0415 - keeps YAML out of discovery

        hierarchy: Hierarchy | None
        if isinstance(source, Hierarchy):
            hierarchy, manifest = source, source.manifest
        else:
            hierarchy, manifest = None, source
        failures: dict[str, str] = {}
        errors: list[ComputeError] = []
        try:
            available = dict(discover_plugins() if plugins is None else plugins)
        except DuplicatePluginError as exc:
            raise RegistryLoadError({exc.plugin_name or "?": exc.message}, errors=[exc]) from exc
        infos: dict[str, PluginInfo] = {}
        loaded: dict[str, ComputePlugin] = {}
        configs: dict[str, ComputeConfig] = {}
        for name in manifest.compute.approved:
            try:
                info = available.get(name)
                if info is None:
                    raise PluginNotFoundError(name, list(available))
                plugin = info.load_class()()
                if hierarchy is not None:
                    data = hierarchy.compute_config(name)
                    where = hierarchy.config_source(name)
                else:
                    data = dict(manifest.compute.config.get(name, {}))
                    where = f"{manifest.display}: compute.config.{name}"
                data.setdefault("plugin", name)
                configs[name] = parse_config(
                    plugin.config_model, data, plugin_name=name, source=where
                )
            except ComputeError as exc:
                failures[name] = exc.message
                errors.append(exc)
                continue
            except Exception as exc:  # a plugin constructor may raise anything
                failures[name] = f"{type(exc).__name__}: {exc}"
                continue
            infos[name] = info
            loaded[name] = plugin
        registry = cls(infos, loaded, configs)
        if failures:
            raise RegistryLoadError(failures, errors=errors, partial=registry)
        return registry
