"""enterprise -> domain -> product: each level may only narrow the computes allowed above it.

The checks return Violations instead of raising, so the compiler can report every
problem of every file at once (FR-016, FR-015).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from floe_compute_kit.errors import Violation
from floe_compute_kit.manifest import Hierarchy

__all__ = [
    "DOMAIN",
    "ENTERPRISE",
    "PRODUCT",
    "Policy",
    "check_hierarchy",
    "check_manifests",
    "check_product",
]

ENTERPRISE: Final = "enterprise"
DOMAIN: Final = "domain"
PRODUCT: Final = "product"


@dataclass(frozen=True)
class Policy:
    """The approved computes of each level, as sets for O(1) checks in the compile loop."""

    enterprise_approved: tuple[str, ...]
    domain_approved: tuple[str, ...] | None
    enterprise_set: frozenset[str]
    domain_set: frozenset[str] | None

    @classmethod
    def of(cls, hierarchy: Hierarchy) -> Policy:
        enterprise = tuple(hierarchy.enterprise.compute.approved)
        domain = tuple(hierarchy.domain.compute.approved) if hierarchy.domain else None
        return cls(
            enterprise_approved=enterprise,
            domain_approved=domain,
            enterprise_set=frozenset(enterprise),
            domain_set=frozenset(domain) if domain is not None else None,
        )

    @property
    def allowed(self) -> tuple[str, ...]:
        """What a product may select: the nearest level's list."""
        return (
            self.domain_approved if self.domain_approved is not None else self.enterprise_approved
        )

    def forbidding_level(self, compute: str) -> str | None:
        """``enterprise`` or ``domain`` if that level forbids ``compute``; None if allowed."""
        if compute not in self.enterprise_set:
            return ENTERPRISE
        if self.domain_set is not None and compute not in self.domain_set:
            return DOMAIN
        return None

    def selection_violation(
        self,
        compute: str,
        *,
        file: str,
        key_path: str,
        transform: str | None = None,
        environments: Iterable[str] = (),
    ) -> Violation | None:
        """A Violation if the product may not select ``compute`` here, else None."""
        level = self.forbidding_level(compute)
        if level is None:
            return None
        allowed = self.allowed
        what = f"transform {transform!r}" if transform else "this setting"
        return Violation(
            code="compute-not-approved",
            message=(
                f"{what} selects compute {compute!r}, which the {level} level does not approve "
                f"(allowed: {', '.join(allowed)})"
            ),
            file=file,
            key_path=key_path,
            level=level,
            transform=transform,
            compute=compute,
            environments=tuple(environments),
            allowed=allowed,
        )


def check_manifests(hierarchy: Hierarchy) -> list[Violation]:
    """The domain narrows the enterprise; each default is among its own level's approved."""
    violations: list[Violation] = []
    enterprise = hierarchy.enterprise
    e_approved = enterprise.compute.approved
    if enterprise.compute.default not in e_approved:
        violations.append(_default_violation(enterprise.display, ENTERPRISE, hierarchy))
    domain = hierarchy.domain
    if domain is None:
        return violations
    e_set = set(e_approved)
    extras = [c for c in domain.compute.approved if c not in e_set]
    if extras:
        violations.append(
            Violation(
                code="domain-not-subset",
                message=(
                    f"domain {domain.name!r} approves {', '.join(extras)}, which enterprise "
                    f"{enterprise.name!r} does not (enterprise approves: {', '.join(e_approved)})"
                ),
                file=domain.display,
                key_path="compute.approved",
                level=ENTERPRISE,
                compute=extras[0],
                allowed=tuple(e_approved),
            )
        )
    if domain.compute.default not in domain.compute.approved:
        violations.append(_default_violation(domain.display, DOMAIN, hierarchy))
    return violations


def _default_violation(file: str, level: str, hierarchy: Hierarchy) -> Violation:
    manifest = hierarchy.domain if level == DOMAIN and hierarchy.domain else hierarchy.enterprise
    approved = manifest.compute.approved
    return Violation(
        code="default-not-approved",
        message=(
            f"{level} default {manifest.compute.default!r} is not in the {level}'s approved "
            f"computes (allowed: {', '.join(approved)})"
        ),
        file=file,
        key_path="compute.default",
        level=level,
        compute=manifest.compute.default,
        allowed=tuple(approved),
    )


def check_product(hierarchy: Hierarchy, policy: Policy | None = None) -> list[Violation]:
    """Every compute floe.yaml names, anywhere, is one its domain approves.

    Per-environment resolution (defaults, parity) is the compiler's job; this
    checks the selections as written.
    """
    product = hierarchy.product
    if product is None:
        return []
    policy = policy or Policy.of(hierarchy)
    file = product.display
    violations: list[Violation] = []
    allowed = policy.domain_set if policy.domain_set is not None else policy.enterprise_set
    for index, transform in enumerate(product.transforms):
        if transform.compute is not None and transform.compute not in allowed:
            v = policy.selection_violation(
                transform.compute,
                file=file,
                key_path=f"transforms[{index}].compute",
                transform=transform.name,
            )
            if v is not None:
                violations.append(v)
    for env_name, env in product.environments.items():
        if env.compute.default is not None:
            v = policy.selection_violation(
                env.compute.default,
                file=file,
                key_path=f"environments.{env_name}.compute.default",
                environments=(env_name,),
            )
            if v is not None:
                violations.append(v)
        for name in env.compute.config:
            v = policy.selection_violation(
                name,
                file=file,
                key_path=f"environments.{env_name}.compute.config.{name}",
                environments=(env_name,),
            )
            if v is not None:
                violations.append(v)
        for t_name, override in env.transforms.items():
            v = policy.selection_violation(
                override.compute,
                file=file,
                key_path=f"environments.{env_name}.transforms.{t_name}.compute",
                transform=t_name,
                environments=(env_name,),
            )
            if v is not None:
                violations.append(v)
    return violations


def check_hierarchy(hierarchy: Hierarchy) -> list[Violation]:
    """All governance violations of the manifests and the product."""
    policy = Policy.of(hierarchy)
    return check_manifests(hierarchy) + check_product(hierarchy, policy)
