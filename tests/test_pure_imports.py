"""Importing the course library changes nothing in the process that imports it: the grader imports it
too, and a notebook's kernel is set up by its setup cell (``helpers.prepare_notebook``), not by an import."""
import json
import subprocess
import sys

import pytest

OURS = "import helpers, helpers.data, helpers.instructor.grading\nhelpers.profile()\n"
#: Prints the modules (other than ours) that ``OURS`` loads, in the order they were loaded.
THEIRS = f"import json, sys\n{OURS}print(json.dumps([m for m in sys.modules if m.split('.')[0] != 'helpers']))"
#: Imports those libraries first (some add warning filters or environment variables when imported), then
#: prints the process's state before and after ``OURS``.
BEFORE_AND_AFTER = """
import importlib, json, os, sys, warnings
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:  # a module that only its own package may import
        pass
import torch
torch.set_num_threads(3)


def state():
    return {"showwarning": repr(warnings.showwarning), "filters": repr(warnings.filters),
            "threads": torch.get_num_threads(), "environ": dict(os.environ)}


before = state()
""" + OURS + "print(json.dumps([before, state()]))"


def _run(*argv: str) -> str:
    env = {"COURSE_PROFILE": "smoke", "PATH": ""}
    return subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.slow  # a fresh interpreter importing torch and the grader: seconds
def test_importing_helpers_and_the_grader_and_reading_the_profile_leave_the_process_as_it_was():
    before, after = json.loads(_run("-c", BEFORE_AND_AFTER, _run("-c", THEIRS)))
    assert after == before
