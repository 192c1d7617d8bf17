"""What the bench tests share: where the project is, and the skip when the bench
requirements are missing outside CI."""

import importlib.util
import os
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
MISSING = [
    name
    for name in ("matplotlib", "starlette")
    if importlib.util.find_spec(name) is None
]
# Locally the bench requirements are optional; CI installs them, so there a
# missing one fails the test instead of skipping it. Each module's pytestmark.
NEEDS_BENCH_REQUIREMENTS = (
    [
        pytest.mark.skip(
            reason=f"needs requirements-bench.txt ({', '.join(MISSING)} missing)"
        )
    ]
    if MISSING and os.environ.get("CI") != "true"
    else []
)
