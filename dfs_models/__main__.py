"""`python -m dfs_models`: see dfs_models.cli."""

from __future__ import annotations

import sys

from dfs_models.cli import main

sys.exit(main())
