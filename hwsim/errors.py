"""The one exception hierarchy of hwsim.

Library code raises these; only the CLI turns them into one line on stderr and exit code 2.
Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class HwsimError(Exception):
    """Root of every error hwsim raises on bad input."""


class ConfigError(HwsimError):
    """An architecture or sweep YAML file is missing, malformed or inconsistent."""


class TraceError(HwsimError):
    """A trace file is missing, malformed, or disagrees with its own header."""


class MappingError(HwsimError):
    """A layer cannot be mapped onto an architecture (e.g. a bit width the PE cannot run)."""
