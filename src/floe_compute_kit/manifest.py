"""manifest.yaml and floe.yaml -> validated models: the only place inputs are read.

pydantic checks the shape (unknown keys, wrong types); a second pass checks what
one file can say about itself (duplicates, the default among the approved). Every
problem in a file is reported in one ManifestError whose lines read
``floe.yaml: transforms[3].compute: ... (allowed: ...)`` (FR-010, KIT-004).
Rules that span files (domain within enterprise, product within domain) live in
:mod:`floe_compute_kit.governance`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from floe_compute_kit._problems import field_problems, key_path
from floe_compute_kit._problems import shown as show_value
from floe_compute_kit._yaml import YAMLInputError, load_yaml_file
from floe_compute_kit.errors import ManifestError, log_error
from floe_compute_kit.models import PLUGIN_NAME_PATTERN

__all__ = [
    "REQUIRED_ENVIRONMENTS",
    "ComputeSection",
    "Environment",
    "EnvironmentCompute",
    "Hierarchy",
    "Manifest",
    "Product",
    "Transform",
    "TransformOverride",
    "load_hierarchy",
    "load_manifest",
    "load_product",
    "read_yaml",
]

#: Every product compiles for at least these environments (parity is checked across all).
REQUIRED_ENVIRONMENTS: Final = ("dev", "staging", "prod")
_ENV_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

ComputeName = Annotated[str, Field(pattern=PLUGIN_NAME_PATTERN)]
EnvironmentName = Annotated[str, Field(pattern=_ENV_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComputeSection(_Strict):
    """``compute:`` of a manifest: what may run, what runs by default, and how."""

    approved: list[ComputeName] = Field(min_length=1, description="computes this level allows")
    default: ComputeName = Field(description="the compute a transform gets when it names none")
    config: dict[ComputeName, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-compute settings keyed by compute name, checked by its config_model",
    )


class Manifest(_Strict):
    """An enterprise or domain manifest.yaml."""

    scope: Literal["enterprise", "domain"]
    name: PrintableText
    parent: str | None = Field(
        default=None,
        max_length=4096,
        description="domain only: the enterprise manifest, relative to this file",
    )
    compute: ComputeSection
    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """Where it was read from (None if built in code)."""
        return self._path

    @property
    def display(self) -> str:
        return _display(self._path) if self._path else "manifest.yaml"


def _printable(text: str) -> str:
    """Names and paths reach terminals and shell commands: no NUL or escape codes."""
    if not text.isprintable():
        raise ValueError("must not contain control characters (NUL, terminal escape codes, tabs)")
    return text


#: Text shown in tables and shell commands: printable, bounded.
PrintableText = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_printable)]


class Transform(_Strict):
    """One dbt transform: a model path, run on one compute."""

    name: PrintableText
    path: PrintableText = Field(description="dbt model path, e.g. models/orders")
    compute: str | None = Field(default=None, pattern=PLUGIN_NAME_PATTERN)


class EnvironmentCompute(_Strict):
    """What an environment may override: the default and compute settings."""

    default: str | None = Field(default=None, pattern=PLUGIN_NAME_PATTERN)
    config: dict[ComputeName, dict[str, Any]] = Field(default_factory=dict)


class TransformOverride(_Strict):
    compute: str = Field(pattern=PLUGIN_NAME_PATTERN)


class Environment(_Strict):
    """Overrides for one environment; the compiler rejects any that break parity."""

    compute: EnvironmentCompute = Field(default_factory=EnvironmentCompute)
    transforms: dict[str, TransformOverride] = Field(default_factory=dict)


class Product(_Strict):
    """A data product's floe.yaml."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    domain: str = Field(
        min_length=1, max_length=4096, description="the domain manifest, relative to this file"
    )
    transforms: list[Transform] = Field(min_length=1)
    environments: dict[EnvironmentName, Environment]
    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def display(self) -> str:
        return _display(self._path) if self._path else "floe.yaml"


@dataclass(frozen=True)
class Hierarchy:
    """enterprise -> (domain) -> (product), loaded and individually valid."""

    enterprise: Manifest
    domain: Manifest | None = None
    product: Product | None = None

    @property
    def manifest(self) -> Manifest:
        """The manifest that governs the product directly."""
        return self.domain or self.enterprise

    @property
    def approved(self) -> list[str]:
        return self.manifest.compute.approved

    @property
    def default(self) -> str:
        return self.manifest.compute.default

    def compute_config(self, name: str, environment: str | None = None) -> dict[str, Any]:
        """Settings for ``name``: enterprise, then domain, then the environment's overrides."""
        merged: dict[str, Any] = {}
        for manifest in (self.enterprise, self.domain):
            if manifest is not None:
                merged = _deep_merge(merged, manifest.compute.config.get(name, {}))
        if environment is not None and self.product is not None:
            env = self.product.environments.get(environment)
            if env is not None:
                merged = _deep_merge(merged, env.compute.config.get(name, {}))
        return merged

    def config_source(self, name: str, environment: str | None = None) -> str:
        """Where an error in ``name``'s settings should point."""
        if environment is not None and self.product is not None:
            env = self.product.environments.get(environment)
            if env is not None and name in env.compute.config:
                return f"{self.product.display}: environments.{environment}.compute.config.{name}"
        if self.domain is not None and name in self.domain.compute.config:
            return f"{self.domain.display}: compute.config.{name}"
        return f"{self.enterprise.display}: compute.config.{name}"


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


# --- reading -------------------------------------------------------------------------------


def read_yaml(path: Path | str) -> dict[str, Any]:
    """A YAML mapping from ``path``, read by the one bounded loader (:mod:`._yaml`)."""
    path = Path(path)
    shown = _display(path)
    try:
        data = load_yaml_file(path, shown)
    except YAMLInputError as exc:
        raise log_error(
            ManifestError(
                str(exc),
                file=shown,
                key_path=exc.key_path,
                allowed=exc.fix,
                line=exc.line,
            )
        ) from None
    if not isinstance(data, dict):
        raise log_error(
            ManifestError(
                f"{shown}: <root>: expected a mapping of keys, got {type(data).__name__}",
                file=shown,
                key_path="<root>",
                value=type(data).__name__,
                allowed="a YAML mapping",
            )
        )
    return data


_M = TypeVar("_M", bound=BaseModel)
_Problem = tuple[str, str, object, str]  # key path, problem, value, allowed


class _Shown(str):
    """A value already rendered (masked and bounded) by :func:`field_problems`.

    ``raw`` is what the error's structured ``value`` field carries.
    """

    raw: object = None


def _problems_from(model: type[BaseModel], exc: ValidationError) -> list[_Problem]:
    problems: list[_Problem] = []
    for problem in field_problems(model, exc):
        if problem.kind == "extra_forbidden":
            text = "unknown key"
        elif problem.kind == "missing":
            text = "missing required key"
        else:
            text = problem.message
        value = None
        if problem.value is not None:
            value = _Shown(problem.value)
            value.raw = problem.raw
        problems.append((key_path(problem.loc), text, value, problem.allowed))
    return problems


def _as_shown(value: object) -> str:
    return str(value) if isinstance(value, _Shown) else show_value(value)


def _raise(shown: str, problems: Sequence[_Problem]) -> None:
    lines = []
    for where, text, value, allowed in problems:
        line = f"{shown}: {where}: {text}"
        if value is not None:
            line += f"; got {_as_shown(value)}"
        if allowed:
            line += f" (allowed: {allowed})"
        lines.append(line)
    first_key, _, value, allowed = problems[0]
    raise log_error(
        ManifestError(
            "\n".join(lines),
            file=shown,
            key_path=first_key,
            value=value.raw if isinstance(value, _Shown) else value,
            allowed=allowed or None,
            errors=lines,
        )
    )


def _validate(model: type[_M], data: Mapping[str, Any], shown: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        _raise(shown, _problems_from(model, exc))
        raise AssertionError("unreachable") from None  # pragma: no cover


def _duplicates(items: Sequence[str]) -> list[str]:
    return sorted(name for name, count in Counter(items).items() if count > 1)


def _manifest_problems(manifest: Manifest) -> list[_Problem]:
    problems: list[_Problem] = []
    compute = manifest.compute
    approved = compute.approved
    dupes = _duplicates(approved)
    if dupes:
        problems.append(
            (
                "compute.approved",
                f"lists {', '.join(dupes)} more than once",
                None,
                "each compute at most once",
            )
        )
    if compute.default not in approved:
        problems.append(
            ("compute.default", "is not an approved compute", compute.default, ", ".join(approved))
        )
    for name in compute.config:
        if name not in approved:
            problems.append(
                (
                    f"compute.config.{name}",
                    "configures a compute that is not approved",
                    name,
                    ", ".join(approved),
                )
            )
    if manifest.scope == "domain" and not manifest.parent:
        problems.append(
            ("parent", "a domain manifest must name its enterprise manifest", None, "a file path")
        )
    if manifest.scope == "enterprise" and manifest.parent:
        problems.append(
            ("parent", "an enterprise manifest has no parent", manifest.parent, "no parent key")
        )
    return problems


def _product_problems(product: Product) -> list[_Problem]:
    problems: list[_Problem] = []
    names = [t.name for t in product.transforms]
    dupes = set(_duplicates(names))
    if dupes:
        for index, name in enumerate(names):
            if name in dupes:
                problems.append(
                    (f"transforms[{index}].name", "duplicate transform name", name, "unique names")
                )
    missing = [env for env in REQUIRED_ENVIRONMENTS if env not in product.environments]
    if missing:
        problems.append(
            (
                "environments",
                f"missing {', '.join(missing)}",
                None,
                f"at least {', '.join(REQUIRED_ENVIRONMENTS)}",
            )
        )
    known = set(names)
    for env_name, env in product.environments.items():
        for transform in env.transforms:
            if transform not in known:
                shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
                problems.append(
                    (
                        f"environments.{env_name}.transforms.{transform}",
                        "overrides a transform that floe.yaml does not define",
                        transform,
                        shown,
                    )
                )
    return problems


def load_manifest(path: Path | str) -> Manifest:
    """One manifest.yaml, valid on its own (its parent is not read here)."""
    path = Path(path)
    shown = _display(path)
    manifest = _validate(Manifest, read_yaml(path), shown)
    problems = _manifest_problems(manifest)
    if problems:
        _raise(shown, problems)
    manifest._path = path.resolve()
    return manifest


def load_product(path: Path | str) -> Product:
    """One floe.yaml, valid on its own (its domain manifest is not read here)."""
    return _product_from(Path(path), read_yaml(path))


def _product_from(path: Path, data: Mapping[str, Any]) -> Product:
    shown = _display(path)
    product = _validate(Product, data, shown)
    problems = _product_problems(product)
    if problems:
        _raise(shown, problems)
    product._path = path.resolve()
    return product


def _follow(owner: Path, owner_shown: str, key: str, relative: str) -> Path:
    target = (owner.parent / relative).resolve()
    if not target.is_file():
        raise log_error(
            ManifestError(
                f"{owner_shown}: {key}: file not found: {show_value(relative)} "
                f"(resolved to {show_value(str(target))}) "
                "(allowed: a manifest.yaml path relative to this file)",
                file=owner_shown,
                key_path=key,
                value=show_value(relative),
                allowed="a manifest.yaml path relative to this file",
            )
        )
    return target


def _expect_scope(manifest: Manifest, scope: str, referrer: str, key: str) -> None:
    if manifest.scope != scope:
        raise log_error(
            ManifestError(
                f"{referrer}: {key}: {manifest.display} has scope {manifest.scope!r} "
                f"(allowed: a manifest with scope {scope!r})",
                file=referrer,
                key_path=key,
                value=manifest.scope,
                allowed=[scope],
            )
        )


def load_hierarchy(path: Path | str) -> Hierarchy:
    """floe.yaml or a manifest.yaml, with everything above it.

    A product names its domain manifest (or, with no domain level, the enterprise
    one); a domain manifest names its enterprise manifest.
    """
    path = Path(path)
    data = read_yaml(path)
    product: Product | None = None
    if "scope" not in data:
        product = _product_from(path, data)
        manifest_path = _follow(path.resolve(), product.display, "domain", product.domain)
        manifest = load_manifest(manifest_path)
    else:
        manifest = load_manifest(path)
    if manifest.scope == "enterprise":
        return Hierarchy(enterprise=manifest, domain=None, product=product)
    # load_manifest set the path and required a parent for the domain scope.
    parent_path = _follow(
        manifest.path or Path(manifest.display), manifest.display, "parent", manifest.parent or ""
    )
    enterprise = load_manifest(parent_path)
    _expect_scope(enterprise, "enterprise", manifest.display, "parent")
    return Hierarchy(enterprise=enterprise, domain=manifest, product=product)
