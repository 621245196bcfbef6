"""Which compute runs each transform, in every environment, and the dbt profiles for them.

Inputs are validated once by :mod:`floe_compute_kit.manifest`; the hot loop here
works on plain strings, dicts and sets so 10,000 transforms compile in well under
a second. A compile collects every governance, parity and config violation and
raises them together in one CompilationError (FR-012, FR-013, SC-004, SC-005).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from floe_compute_kit._problems import capped, shown
from floe_compute_kit.compute import ComputePlugin
from floe_compute_kit.errors import (
    CompilationError,
    ComputeConfigurationError,
    Violation,
    log_error,
)
from floe_compute_kit.governance import PRODUCT, Policy, check_hierarchy
from floe_compute_kit.manifest import Hierarchy, load_hierarchy
from floe_compute_kit.models import parse_config

__all__ = [
    "CompiledPipeline",
    "CompiledTransform",
    "build_profiles",
    "compile_hierarchy",
    "compile_path",
    "resolve",
    "target_name",
]


def target_name(compute: str, environment: str) -> str:
    """The profiles.yml target of one compute in one environment, e.g. ``duckdb_prod``."""
    return f"{compute}_{environment}"


class CompiledTransform(NamedTuple):
    """One transform and the compute it runs on in every environment."""

    name: str
    path: str
    compute: str


@dataclass(frozen=True)
class CompiledPipeline:
    """A product whose every transform runs on one approved compute in all environments."""

    product: str
    default: str
    environments: tuple[str, ...]
    approved: tuple[str, ...]
    transforms: tuple[CompiledTransform, ...]
    hierarchy: Hierarchy = field(repr=False, compare=False)

    def selectors(self) -> dict[str, list[str]]:
        """Model paths per compute (``dbt build --select path:...``), for computes in use."""
        out: dict[str, list[str]] = {}
        for t in self.transforms:
            out.setdefault(t.compute, []).append(t.path)
        return out

    def targets(self) -> dict[str, dict[str, str]]:
        return {c: {e: target_name(c, e) for e in self.environments} for c in self.approved}

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "default": self.default,
            "environments": list(self.environments),
            "approved": list(self.approved),
            "transforms": [
                {
                    "name": t.name,
                    "path": t.path,
                    "compute": t.compute,
                    "environments": dict.fromkeys(self.environments, t.compute),
                }
                for t in self.transforms
            ],
            "selectors": self.selectors(),
            "targets": self.targets(),
        }


def resolve(hierarchy: Hierarchy) -> dict[str, list[str]]:
    """Each environment's compute for every transform, in floe.yaml order.

    Precedence: the environment's transform override, the transform's own
    ``compute``, the environment's default, the manifest's default.
    """
    product = hierarchy.product
    if product is None:
        return {}
    base_default = hierarchy.default
    names = [t.name for t in product.transforms]
    explicit = [t.compute for t in product.transforms]
    out: dict[str, list[str]] = {}
    index: dict[str, int] = {}
    for env_name, env in product.environments.items():
        default = env.compute.default or base_default
        row = [c if c is not None else default for c in explicit]
        if env.transforms:
            index = index or {n: i for i, n in enumerate(names)}
            for t_name, override in env.transforms.items():
                row[index[t_name]] = override.compute
        out[env_name] = row
    return out


def _parity_violations(hierarchy: Hierarchy, resolved: Mapping[str, list[str]]) -> list[Violation]:
    product = hierarchy.product
    if product is None or not resolved:
        return []
    envs = list(resolved)
    rows = [resolved[e] for e in envs]
    if all(row == rows[0] for row in rows[1:]):  # the common case, compared in C
        return []
    violations = []
    for index, computes in enumerate(zip(*rows, strict=True)):
        if len(set(computes)) == 1:
            continue
        by_compute: dict[str, list[str]] = {}
        for env, compute in zip(envs, computes, strict=True):
            by_compute.setdefault(compute, []).append(env)
        transform = product.transforms[index].name
        detail = "; ".join(f"{', '.join(es)} -> {c}" for c, es in by_compute.items())
        violations.append(
            Violation(
                code="environment-parity",
                message=(
                    f"transform {transform!r} runs on different computes across environments "
                    f"({detail}); a transform must use one compute in every environment"
                ),
                file=product.display,
                key_path=f"transforms[{index}]",
                level=PRODUCT,
                transform=transform,
                compute=", ".join(by_compute),
                environments=tuple(envs),
                allowed=tuple(sorted(set(computes))),
            )
        )
    return violations


def compile_hierarchy(hierarchy: Hierarchy) -> CompiledPipeline:
    """Resolve, govern and check parity; raise every violation at once."""
    product = hierarchy.product
    if product is None:
        raise ValueError("compile needs a floe.yaml (a product), not only a manifest")
    policy = Policy.of(hierarchy)
    violations = check_hierarchy(hierarchy)
    resolved = resolve(hierarchy)
    violations += _parity_violations(hierarchy, resolved)
    if violations:
        raise log_error(CompilationError(violations))
    first_env = next(iter(resolved))
    transforms = tuple(
        map(
            CompiledTransform,
            [t.name for t in product.transforms],
            [t.path for t in product.transforms],
            resolved[first_env],
        )
    )
    return CompiledPipeline(
        product=product.name,
        default=hierarchy.default,
        environments=tuple(product.environments),
        approved=policy.allowed,
        transforms=transforms,
        hierarchy=hierarchy,
    )


def compile_path(path: Path | str) -> CompiledPipeline:
    """Load floe.yaml (and the manifests above it) and compile it."""
    return compile_hierarchy(load_hierarchy(path))


def build_profiles(
    pipeline: CompiledPipeline, plugins: Mapping[str, ComputePlugin]
) -> dict[str, Any]:
    """profiles.yml content: one target per approved compute and environment.

    Each target is its plugin's ``generate_dbt_profile`` of the config merged from
    enterprise, domain and the environment's overrides; bad configs are violations.
    """
    hierarchy = pipeline.hierarchy
    outputs: dict[str, Any] = {}
    violations: list[Violation] = []
    for compute in pipeline.approved:
        plugin = plugins[compute]
        for env in pipeline.environments:
            data = hierarchy.compute_config(compute, env)
            source = hierarchy.config_source(compute, env)
            file, _, key_path = source.partition(": ")
            if data.setdefault("plugin", compute) != compute:
                violations.append(
                    Violation(
                        code="invalid-config",
                        message=f"plugin {shown(data['plugin'])} does not match the compute it "
                        f"configures (allowed: {compute})",
                        file=file,
                        key_path=f"{key_path}.plugin",
                        compute=compute,
                        environments=(env,),
                        allowed=(compute,),
                    )
                )
                continue
            try:
                config = parse_config(plugin.config_model, data, plugin_name=compute, source=source)
                outputs[target_name(compute, env)] = plugin.generate_dbt_profile(config)
            except ComputeConfigurationError as exc:
                violations.extend(
                    Violation(
                        code="invalid-config",
                        message=line,
                        compute=compute,
                        environments=(env,),
                    )
                    for line in exc.errors or [exc.message]
                )
            except Exception as exc:  # a plugin bug must not hide the other targets
                violations.append(
                    Violation(
                        code="profile-failed",
                        message=f"{compute}.generate_dbt_profile failed for {env}: "
                        f"{type(exc).__name__}: {capped(str(exc))}",
                        compute=compute,
                        environments=(env,),
                    )
                )
    if violations:
        raise log_error(CompilationError(violations))
    return {
        pipeline.product: {
            "target": target_name(
                pipeline.default,
                "dev" if "dev" in pipeline.environments else pipeline.environments[0],
            ),
            "outputs": outputs,
        }
    }
