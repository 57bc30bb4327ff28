"""Every test uses the smoke profile: offline stand-ins, CPU."""
import os
import shutil
from pathlib import Path

os.environ["COURSE_PROFILE"] = "smoke"
os.environ.pop("NBGRADER_EXECUTION", None)
os.environ.pop("COURSE_MAX_STEPS", None)  # the full profile's dry run sets it for its own kernels only


# --- mutation testing: one mutant's damage to the shared stand-ins never reaches the next --------------------
# `make mutation` runs each mutant's tests in a process of its own, and all of them read the stand-ins and
# caches the first tests built in the run's own cache folder (XDG_CACHE_HOME). A mutant may write where it must
# not (an installer that ignores the folder it is given writes into the profile's); the mutants after it would
# read the damage and count as killed. So each mutant's session compares that folder's files at its end with
# its start, without calling the (mutated) library: a changed or missing file removes its dataset's folder (the
# next test that needs it builds the same stand-in again), and the event goes to `mutacion-datos.log` there,
# which `make mutation` prints.
MUTATION_LOG = "mutacion-datos.log"


def _watched_cache():
    name, cache = os.environ.get("MUTANT_UNDER_TEST", ""), os.environ.get("XDG_CACHE_HOME")
    return (name, Path(cache)) if name.startswith("helpers.") and cache else (None, None)


def _files(root):
    found = {}
    for path in root.rglob("*"):
        try:
            if path.is_file() and path.name != MUTATION_LOG:
                st = path.stat()
                found[path.relative_to(root).parts] = (st.st_size, st.st_mtime_ns)
        except OSError:
            continue
    return found


def pytest_sessionstart(session):
    mutant, cache = _watched_cache()
    if mutant:
        session.config.cache_files_at_start = _files(cache)


def pytest_sessionfinish(session):
    mutant, cache = _watched_cache()
    before = getattr(session.config, "cache_files_at_start", None)
    if not mutant or before is None:
        return
    now = _files(cache)
    changed = {parts[:3] for parts, stamp in before.items() if now.get(parts) != stamp}  # dl-curso/area/dataset
    damaged = sorted(p for p in changed if not (len(p) > 2 and p[2].startswith(".")))  # not a build under way
    for parts in damaged:
        path = cache.joinpath(*parts)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if damaged:
        with open(cache / MUTATION_LOG, "a", encoding="utf-8") as log:
            log.write(f"{mutant}: {', '.join('/'.join(p) for p in damaged)}\n")
