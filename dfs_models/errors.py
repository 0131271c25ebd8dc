"""The one exception hierarchy of dfs_models.

Library code raises these; only the CLI turns them into one line on stderr and exit code 2.
Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class DfsError(Exception):
    """Root of every error dfs_models raises on bad input."""


class DataError(DfsError):
    """A data set is missing or its files are malformed."""


class CheckpointError(DfsError):
    """A checkpoint is missing, corrupt, or does not fit the model asked for."""


class TrainConfigError(DfsError):
    """A training configuration (YAML or flags) is malformed or inconsistent."""
