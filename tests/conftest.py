"""Test-suite wide settings."""

from hypothesis import settings

# CI must not depend on which random examples Hypothesis draws: a fixed, derandomized profile
# (explore more with `--hypothesis-profile=explore`, e.g. before changing the mapper).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000)
settings.load_profile("ci")
