"""Finding and loading compute plugins.

Discovery reads the ``floe.computes`` entry-point group through
importlib.metadata, like pluggy's ``load_setuptools_entrypoints``: nothing is
imported until a plugin is asked for, and every failure names the entry point
and the distribution that supplied it.
"""

from __future__ import annotations

import importlib
import importlib.util
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points, packages_distributions, version
from typing import TYPE_CHECKING, Final

from floe_compute_kit.compute import ComputePlugin
from floe_compute_kit.errors import (
    ComputeError,
    DuplicatePluginError,
    PluginLoadError,
    PluginNotFoundError,
    RegistryLoadError,
    log_error,
)
from floe_compute_kit.models import ComputeConfig, parse_config

if TYPE_CHECKING:
    from floe_compute_kit.manifest import Hierarchy, Manifest

__all__ = [
    "ENTRY_POINT_GROUP",
    "ApprovedComputes",
    "ComputeRegistry",
    "PluginInfo",
    "Resolved",
    "discover_plugins",
    "load_plugin",
    "resolve",
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

    @property
    def supplier(self) -> str:
        """The distribution that registered the entry point, with its version."""
        return f"{self.distribution} {self.distribution_version}".strip()

    def load(self) -> object:
        """Import what the entry point names; PluginLoadError names the cause and the supplier."""
        try:
            return self.entry_point.load()
        except (Exception, SystemExit) as exc:  # a plugin's import may even call sys.exit
            raise log_error(
                PluginLoadError(
                    f"cannot load entry point '{self.spec}' of {self.supplier}: "
                    f"{type(exc).__name__}: {exc}",
                    plugin_name=self.name,
                    entry_point=self.spec,
                    distribution=self.supplier,
                    reason=_reason(exc),
                )
            ) from exc

    def load_class(self) -> type[ComputePlugin]:
        """The plugin class; PluginLoadError when it does not load or is not a ComputePlugin."""
        return _check_class(self.load(), self.spec, plugin_name=self.name, supplier=self.supplier)


@dataclass(frozen=True)
class Resolved:
    """What a plugin spec named; ``info`` is its entry point when the spec was a name."""

    obj: object
    spec: str
    info: PluginInfo | None = None


def _reason(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def _check_class(
    obj: object, spec: str, *, plugin_name: str | None, supplier: str | None
) -> type[ComputePlugin]:
    if isinstance(obj, type) and issubclass(obj, ComputePlugin):
        return obj
    raise log_error(
        PluginLoadError(
            f"{spec!r} refers to {obj!r}, which is not a ComputePlugin subclass",
            plugin_name=plugin_name,
            entry_point=spec,
            distribution=supplier,
            reason="not a ComputePlugin subclass",
        )
    )


def _scan(group: str) -> tuple[dict[str, PluginInfo], dict[str, list[str]]]:
    """Entry points by name, and the names two different distributions claim."""
    found: dict[str, PluginInfo] = {}
    duplicates: dict[str, list[str]] = {}
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
            claims = duplicates.setdefault(ep.name, [f"{previous.supplier} ({previous.value})"])
            claims.append(f"{info.supplier} ({info.value})")
    return found, duplicates


def discover_plugins(group: str = ENTRY_POINT_GROUP) -> dict[str, PluginInfo]:
    """Every installed compute plugin by name, without importing any of them.

    The same distribution found twice on sys.path counts once; two different
    distributions claiming one name raise DuplicatePluginError.
    """
    found, duplicates = _scan(group)
    if duplicates:
        name, claims = next(iter(duplicates.items()))
        raise log_error(DuplicatePluginError(name, claims))
    return found


def _supplier_of(module_name: str) -> str | None:
    """The installed distribution that ships ``module_name``'s top-level package, if any.

    Asked only when a load fails: it reads every installed distribution's file list.
    """
    try:
        names = sorted(set(packages_distributions().get(module_name.partition(".")[0], [])))
        return ", ".join(f"{name} {version(name)}" for name in names) or None
    except Exception:  # broken metadata of some other distribution: say nothing
        return None


def _import_attr(spec: str, module_name: str, attr: str) -> object:
    try:
        obj: object = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except (Exception, SystemExit) as exc:  # a plugin's import may even call sys.exit
        supplier = _supplier_of(module_name)
        raise log_error(
            PluginLoadError(
                f"cannot import plugin {spec!r}"
                + (f" (distribution {supplier})" if supplier else "")
                + f": {type(exc).__name__}: {exc}",
                entry_point=spec,
                distribution=supplier,
                reason=_reason(exc),
            )
        ) from exc
    return obj


def _dotted(spec: str) -> tuple[str, str] | None:
    """Split ``package.module.Attr`` at the longest prefix that is an importable module."""
    parts = spec.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            found = None
        if found is not None:
            return module_name, ".".join(parts[cut:])
    return None


def resolve(spec: str, group: str = ENTRY_POINT_GROUP) -> Resolved:
    """The one plugin resolver: what ``spec`` names, imported.

    ``spec`` is an entry-point name of ``group``, ``module:attr`` or ``module.attr``
    (an entry-point name wins over a module of the same name). Raises
    PluginNotFoundError (listing what is installed), PluginLoadError (naming the
    distribution that supplied the plugin and the reason) or DuplicatePluginError
    (only when ``spec`` itself is claimed twice). Nothing is checked about the object:
    the registry wants a ComputePlugin subclass, the conformance kit accepts
    structural plugins and instances.
    """
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        return Resolved(_import_attr(spec, module_name, attr), spec)
    found, duplicates = _scan(group)
    if spec in duplicates:
        raise log_error(DuplicatePluginError(spec, duplicates[spec]))
    info = found.get(spec)
    if info is not None:
        return Resolved(info.load(), spec, info)
    dotted = _dotted(spec) if "." in spec else None
    if dotted is not None:
        return Resolved(_import_attr(spec, *dotted), spec)
    raise log_error(
        PluginNotFoundError(
            spec,
            list(found),
            hint=f" (entry-point group {group!r}); or pass module:Attribute to load one directly",
        )
    )


def resolve_plugin_class(spec: str, group: str = ENTRY_POINT_GROUP) -> type[ComputePlugin]:
    """A ComputePlugin subclass from an entry-point name, ``module:attr`` or ``module.attr``."""
    found = resolve(spec, group)
    if found.info is None:
        return _check_class(found.obj, spec, plugin_name=None, supplier=None)
    info = found.info
    return _check_class(found.obj, info.spec, plugin_name=info.name, supplier=info.supplier)


def load_plugin(spec: str, group: str = ENTRY_POINT_GROUP) -> ComputePlugin:
    """An instance of the plugin named by ``spec`` (see :func:`resolve`)."""
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
                raise log_error(PluginNotFoundError(name, list(self._infos)))
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
            raise log_error(
                RegistryLoadError({exc.plugin_name or "?": exc.message}, errors=[exc])
            ) from exc
        infos: dict[str, PluginInfo] = {}
        loaded: dict[str, ComputePlugin] = {}
        configs: dict[str, ComputeConfig] = {}
        for name in manifest.compute.approved:
            try:
                info = available.get(name)
                if info is None:
                    raise log_error(PluginNotFoundError(name, list(available)))
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
            raise log_error(RegistryLoadError(failures, errors=errors, partial=registry))
        return registry
