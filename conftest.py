"""Every test, and every notebook nbval runs, uses the smoke profile: offline stand-ins, CPU."""
import os

import pytest

os.environ["COURSE_PROFILE"] = "smoke"
os.environ.pop("NBGRADER_EXECUTION", None)
os.environ.pop("COURSE_MAX_STEPS", None)  # the full profile's dry run sets it for its own kernels only


def pytest_collection_modifyitems(items):
    """Notebook cells collected by nbval are slow end-to-end tests too."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
