"""Hypothesis strategies for any pydantic config model, field by field (KIT-007).

``st.builds(Model)`` never varies a defaulted field and ``st.from_type`` ignores
``pattern``, so neither finds the config that breaks a plugin. This builder walks
``model_fields`` and each field's constraints (ge/gt/le/lt, min/max length, pattern,
multiple_of), its type (Literal, Enum, Optional/Union, SecretStr, nested models,
lists, tuples, sets, dicts, Any) and its validators, and draws raw input dicts the
way a user would write them in YAML: every field varies, defaulted keys are
sometimes left out, secrets are plain strings.

Plugin authors can use it in their own tests:

>>> from hypothesis import given, settings
>>> from floe_compute_kit import ComputeConfig
>>> from floe_compute_kit.conformance.strategies import configs, config_dicts
>>> @settings(max_examples=20, database=None)
... @given(configs(ComputeConfig))
... def test_threads_stay_in_range(config):
...     assert 1 <= config.threads <= 64
>>> test_threads_stay_in_range()

Fix a field with ``overrides`` (dotted names reach into nested models):

>>> from hypothesis import strategies as st
>>> @settings(max_examples=10, database=None)
... @given(config_dicts(ComputeConfig, overrides={"plugin": st.just("spark")}))
... def test_override(data):
...     assert data["plugin"] == "spark"
>>> test_override()

What is filtered rather than built: values of fields with functional validators
(``AfterValidator`` and friends, ``@field_validator``) are drawn from their base type
and kept only if the field accepts them, and nested models are kept only if they
validate on their own. The top-level model's own validators are not filtered by
:func:`config_dicts`; :func:`validity_rate` measures how often they pass.

Biases, on purpose: free text is half plain words (``[A-Za-z0-9_.-]``) and half any
Unicode; items of a list of models differ in their required text fields (aliases,
names), since duplicates there are almost always an error; members of a union of
models always carry their Literal tag fields.
"""

from floe_compute_kit.conformance._masking import mask_secrets
from floe_compute_kit.conformance.strategies._build import config_dicts, configs
from floe_compute_kit.conformance.strategies._connections import (
    connection_dicts,
    credentials_fields,
)
from floe_compute_kit.conformance.strategies._mutations import Mutation, invalid_config_mutations
from floe_compute_kit.conformance.strategies._validity import validity_rate

__all__ = [
    "Mutation",
    "config_dicts",
    "configs",
    "connection_dicts",
    "credentials_fields",
    "invalid_config_mutations",
    "mask_secrets",
    "validity_rate",
]
