"""The checks catalogue covers the whole ABC, and every entry is well formed."""

from __future__ import annotations

import re

import pytest

from floe_compute_kit.compute import Capability, ComputePlugin
from floe_compute_kit.conformance._check import CheckContext, check
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.catalogue_doc import REQUIREMENTS
from floe_compute_kit.conformance.checks import CHECK_MODULES, load_catalogue

RFC2119 = re.compile(r"\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|MAY|REQUIRED|OPTIONAL)\b")


@pytest.mark.requirement("KIT-022")
def test_every_abc_requirement_has_a_check() -> None:
    required = set(ComputePlugin.__abstractmethods__) | {"config_model"}
    covered = {reg.spec.method for reg in load_catalogue()}
    assert required - covered == set()
    # and the optional members the kit relies on
    assert {"capabilities", "example_configs"} <= covered


@pytest.mark.requirement("KIT-022")
def test_every_check_is_well_formed() -> None:
    catalogue = load_catalogue()
    ids = [reg.spec.id for reg in catalogue]
    assert len(ids) == len(set(ids))
    capabilities = {c.value for c in Capability}
    for reg in catalogue:
        spec = reg.spec
        assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", spec.id), spec.id
        assert RFC2119.search(spec.wording), spec.id
        assert spec.requirements, spec.id
        assert all(
            re.fullmatch(r"FR-\d+a?|SC-\d+|KIT-\d+|US\d+(-AS\d+)?", r) for r in spec.requirements
        ), spec.id
        assert isinstance(spec.level, Level)
        assert spec.capability is None or spec.capability in capabilities, spec.id


@pytest.mark.requirement("KIT-022")
def test_own_checks_name_documented_requirements() -> None:
    own = {
        "plugin",
        "metadata",
        "config",
        "profile",
        "packages",
        "connection",
        "resources",
        "catalog",
    }
    for reg in load_catalogue():
        if reg.spec.id.split(".")[0] in own:
            assert set(reg.spec.requirements) <= set(REQUIREMENTS), reg.spec.id


@pytest.mark.requirement("KIT-022")
def test_catalogue_order_follows_the_modules() -> None:
    modules = [reg.fn.__module__.rsplit(".", 1)[-1] for reg in load_catalogue()]
    positions = [CHECK_MODULES.index(m) for m in modules]
    assert positions == sorted(positions)
    assert load_catalogue()[0].spec.id == "plugin.loads"


@pytest.mark.requirement("KIT-022")
def test_registering_a_different_function_under_a_taken_id_fails() -> None:
    def impostor(ctx: CheckContext) -> None:
        del ctx

    load_catalogue()  # the id must be taken first, whichever test ran before
    with pytest.raises(ValueError, match=r"'profile\.threads' is registered twice"):
        check("profile.threads", method="x", requirements=("KIT-001",), wording="MUST")(impostor)
