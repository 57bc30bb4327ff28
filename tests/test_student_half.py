"""The student half of ``helpers`` stands alone: it imports nothing of ``helpers.instructor``."""
import ast
import json
import re
import subprocess
import sys
import tomllib

import pytest

from helpers.course import ROOT

STUDENT_MODULES = sorted(p.stem for p in (ROOT / "helpers").glob("*.py") if p.stem != "__init__")
#: The packages of helpers.instructor and of what only the instructor installs (pyproject.toml's extra).
INSTRUCTOR_ONLY = ("helpers.instructor", *(
    re.match(r"[\w-]+", requirement).group() for requirement in
    tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["instructor"]))


def _imported_names(path) -> list[str]:
    """Absolute names of the modules a file imports (relative imports resolved inside ``helpers``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "helpers." if node.level else ""
            names += [f"{base}{node.module}" if node.module else f"{base}{a.name}" for a in node.names]
    return names


def test_student_modules_never_name_the_instructor_package_or_its_tools():
    for path in (ROOT / "helpers").glob("*.py"):
        bad = [n for n in _imported_names(path) if n.startswith(INSTRUCTOR_ONLY)]
        assert not bad, f"{path.name} imports {bad}"


@pytest.mark.slow  # a fresh interpreter imports torch and torchvision: many seconds on a busy machine
def test_importing_every_student_module_loads_nothing_of_the_instructor():
    code = ("import json, sys\n"
            f"for m in {STUDENT_MODULES!r}: __import__('helpers.' + m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "COURSE_PROFILE": "smoke", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert {f"helpers.{m}" for m in STUDENT_MODULES} <= set(loaded)
    assert not [m for m in loaded if m.startswith(INSTRUCTOR_ONLY)]
