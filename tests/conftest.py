"""Heavy fixtures shared by several test files, built once per session."""
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
# scikit-learn sets KMP_DUPLICATE_LIB_OK and KMP_INIT_AT_FORK when first imported: imported here, before
# any test, so that the environment guard below never blames the test that happens to import it first.
import sklearn  # noqa: F401

from helpers.instructor import grading

sys.path.insert(0, str(Path(__file__).parent))
import grading_corpus  # noqa: E402
import hostile_corpus  # noqa: E402

CORPUS_LAB = "lab1_convolutions"
#: An environment variable of the grader's that no student kernel may see.
SECRET_ENV = ("SECRETO_DEL_PROFESOR", "contraseña-del-profesorado-1234")


@pytest.fixture(autouse=True)
def environment_left_as_found(request):
    """Each test leaves ``os.environ`` as it found it: every later notebook, worker and kernel started by
    the suite inherits it. A change is undone, and the test fails naming the variables, unless it is
    marked ``changes_environment`` (a library it runs changes it, as Dask's Nanny sets
    ``OMP_NUM_THREADS=1`` and ``MALLOC_TRIM_THRESHOLD_`` in the process that starts a local cluster: left
    there, they made lab 5's full-profile dry run 2.4 times slower)."""
    before = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    yield
    after = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    for name in changed:
        if name in before:
            os.environ[name] = before[name]
        else:
            del os.environ[name]
    if changed and not request.node.get_closest_marker("changes_environment"):
        pytest.fail(f"la prueba dejó cambiadas estas variables de entorno: {', '.join(changed)}")


@pytest.fixture(scope="session")
def graded_corpora(tmp_path_factory):
    """Lab 1's damaged and hostile corpora, graded together in one sealed class run (``--jobs 2``)."""
    tmp = tmp_path_factory.mktemp("corpora")
    submissions = tmp / "entregas"
    damaged = grading_corpus.damaged(CORPUS_LAB)
    hostile = hostile_corpus.hostile(CORPUS_LAB)
    grading_corpus.write({**damaged, **hostile}, submissions)
    received = {p.relative_to(submissions): p.read_bytes() for p in submissions.rglob("*") if p.is_file()}
    os.environ[SECRET_ENV[0]] = SECRET_ENV[1]
    try:
        run = grading.grade_class(CORPUS_LAB, submissions, tmp / "curso", jobs=2, cell_timeout=45,
                                  log=lambda *_: None)
    finally:
        os.environ.pop(SECRET_ENV[0])
    print(f"\n{run.summary()}\n{run.problems()}")
    return SimpleNamespace(run=run, submissions=submissions, received=received, damaged=damaged,
                           hostile=hostile, tmp=tmp)
