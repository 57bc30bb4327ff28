"""One student graded alone: the template course folder each student is graded in a private copy of, the
reference its tests are judged against, and :func:`autograde_isolated`.

The template (``_plantilla``) is an nbgrader course folder with the lab generated in its gradebook and a seal
(``huella.json``) over its files: a student is graded only in a copy of a template whose files are still the
ones sealed. Grading happens in a grading worker (:mod:`.worker`), whose nbgrader steps leave what they found
(disabled cells, the tripwires' verdict) in the graded notebook's metadata, read back into the :class:`Outcome`.
"""
import hashlib
import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from ..course import ROOT, cache_dir, lab_notebook
from . import judge, tamper
from .build import student_version
from .gradebook import empty_gradebook, gradebook_path, private_submission
from .nbgrader_io import read_notebook, run_nbgrader
from .records import Outcome
from .settings import Settings
from .vocabulary import Note, StepFailed
from .worker import Job, Worker, WorkerFailed, WorkerPool


def fingerprint(lab: str) -> str:
    """A digest of ``lab``'s source folder: a changed answer key or test means a new version of the lab."""
    digest = hashlib.sha256()
    folder = lab_notebook("source", lab).parent
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def lab_version(source: str, settings: Settings) -> str:
    """What decides whether a notebook is graded the same way (on another run, or on a cluster's worker): the
    lab's :func:`fingerprint` ``source`` and the grading limits."""
    return f"{source}/{settings.key()}"


#: Ends a grading folder's copy of the course's ``nbgrader_config.py``: see :class:`execute.RefuseAutograde`.
FORMGRADER_GUARD = """
# Added by course grade: only `course grade` autogrades here (sealed, judged outside the kernel); formgrader's
# Autograde button would run the students' code unsealed, so on its own this folder refuses to.
c.Autograde.autograde_preprocessors = ["helpers.instructor.execute.RefuseAutograde"]
"""


def _tree_digest(folder: Path, skip: tuple = ()) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in skip):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_template(lab: str, source: str, workdir: Path, settings: Settings, log=print,
                     workers: WorkerPool | None = None) -> Path:
    """Make ``workdir/_plantilla`` a clean course folder for ``lab`` (assignment in its gradebook),
    with the reference its tests are judged against (:func:`reference`, graded by ``workers``). ``source`` is
    the lab's :func:`fingerprint`.

    The template is reused while the lab and the settings are the same and its files still hash to
    what was written; anything else (a changed file, a file added) rebuilds it.
    """
    from nbgrader.converters import GenerateAssignment

    template = workdir / "_plantilla"
    stamp = f"{source}/{settings.key()}/{settings.data}"
    if verified_template(template) == stamp and (template / judge.REFERENCE_NAME).exists():
        return template  # (sealed before the reference is made, which grades in it: a run stopped then made none)
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    # the course's own, which settings.autograde_config goes on top of; alone, it refuses to autograde (formgrader's button)
    (template / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + FORMGRADER_GUARD)
    shutil.copytree(lab_notebook("source", lab).parent, lab_notebook("source", lab, template).parent)
    shutil.copy2(empty_gradebook(), gradebook_path(template))
    result = run_nbgrader(GenerateAssignment, template, lab)
    if not result["success"]:
        raise StepFailed(f"nbgrader no pudo preparar la plantilla de {lab}:\n{result.get('error', '')[-3000:]}")
    _seal(template, stamp)
    (template / judge.REFERENCE_NAME).write_text(json.dumps(reference(lab, source, template, workdir / "_trabajo",
                                                                     settings, workers, log)))
    _seal(template, stamp)
    return template


def _seal(template: Path, stamp: str) -> None:
    (template / "huella.json").write_text(json.dumps({"clave": stamp, "sha256": _tree_digest(template, ("huella.json",))}))


#: The code whose change changes what is recorded or how it is judged (part of a reference's version).
JUDGING_CODE = ("checks.py", "verdicts.py", "instructor/judge.py")


def reference(lab: str, source: str, template: Path, scratch: Path, settings: Settings,
              workers: WorkerPool | None, log=print) -> dict:
    """What ``lab``'s tests are judged against (see :mod:`helpers.instructor.judge`): the answer key
    graded twice in ``template``, the second time with its random generators perturbed. Made once per
    version of the lab and of the judging code, sealed or not, on this machine, and kept in the cache (the
    key's values do not depend on the time and memory limits)."""
    digest = hashlib.sha256(f"{source}/{settings.sandboxed}/{settings.data}".encode())
    for name in JUDGING_CODE:
        digest.update((ROOT / "helpers" / name).read_bytes())
    cached = cache_dir() / "calificacion" / f"referencia-{lab}-{digest.hexdigest()[:16]}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    log(f"Preparando la referencia de {lab}: la clave de respuestas se califica dos veces (solo la primera vez)...")
    key = student_version(lab, "all")
    runs = {}

    def run(name: str, perturb: bool) -> None:
        outcome = autograde_isolated(lab, name, key, template, scratch, settings, workers, perturb=perturb)
        try:
            if outcome.error:
                raise StepFailed(f"No se pudo calificar la clave de {lab} para preparar la referencia: {outcome.error}")
            runs[perturb] = json.loads((outcome.root / judge.RECORDS_NAME).read_text())
        finally:
            shutil.rmtree(outcome.root, ignore_errors=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(run, "_clave", False), pool.submit(run, "_clave_perturbada", True)]:
            done.result()
    result = judge.classify(runs[False], runs[True])
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(json.dumps(result))
    os.replace(partial, cached)  # two runs that make the same reference at once both write it whole
    return result


def verified_template(template: Path) -> str | None:
    """The template's stamp if its files are exactly those written when it was made, else None."""
    try:
        mark = json.loads((template / "huella.json").read_text())
    except (OSError, ValueError):
        return None
    return mark["clave"] if _tree_digest(template, ("huella.json",)) == mark.get("sha256") else None


# --------------------------------------------------------------------------- one student

def _execution_notes(nb) -> list[Note]:
    notes = []
    for cell in nb.cells:
        label = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id")
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            if out.get("ename") == "CellTimeoutError":
                notes.append(Note(f"celda «{label}»: superó el tiempo máximo por celda y se interrumpió"))
    return notes


def autograde_isolated(lab: str, student: str, nb, template: Path, scratch: Path, settings: Settings,
                       workers: WorkerPool | None = None, perturb: bool = False) -> Outcome:
    """Autograde one student's (repaired) notebook in a private copy of the template course folder,
    by one of ``workers`` (the run's grading workers) or, without them, by a worker of its own.
    ``perturb`` (only for the answer key, see :func:`reference`) reseeds its random generators."""
    try:
        if workers is None:
            with start_workers(1, scratch, settings) as own:
                return autograde_isolated(lab, student, nb, template, scratch, settings, own, perturb)
        with workers.lend() as worker:
            return _autograde_isolated(lab, student, nb, template, scratch, settings, worker, perturb)
    except Exception as e:  # never lose the batch to one student
        return Outcome(student, error=f"fallo inesperado al calificarlo ({type(e).__name__}: {e})",
                       root=scratch / student)


def start_workers(size: int, logs: Path, settings: Settings) -> WorkerPool:
    """``size`` grading workers for ``settings``, their output in the folder ``logs``."""
    return WorkerPool(size, logs, settings)


def _autograde_isolated(lab, student, nb, template, scratch, settings, worker: Worker, perturb: bool) -> Outcome:
    start = time.perf_counter()
    stamp = verified_template(template)
    if stamp is None:
        raise RuntimeError(f"la plantilla {template} cambió desde que se creó: vuelve a calificar")
    root = scratch / student
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    dest = lab_notebook(f"submitted/{student}", lab, root)
    dest.parent.mkdir(parents=True)
    dest.write_text(nbformat.writes(nb))
    if perturb:
        (root / judge.PERTURB_NAME).touch()
    outcome = Outcome(student, root=root)
    autograded = lab_notebook(f"autograded/{student}", lab, root)
    try:
        worker.autograde(Job(str(root), lab, student), settings.notebook_timeout)
        if not autograded.exists():
            raise WorkerFailed("nbgrader no escribió el cuaderno calificado")
    except WorkerFailed as e:
        outcome.error = str(e)
    if outcome.error is None:
        outcome.grades, outcome.comments = private_submission(root, lab, student)
        executed = read_notebook(autograded)
        findings = executed.metadata.get(tamper.FINDINGS, {})
        for inc in findings.get(tamper.INCIDENTS, []):
            outcome.notes.append(Note(f"celda «{inc['cell']}» desactivada: {inc['reason']}; el resto del "
                                      "cuaderno se calificó sin ella"))
        verdict = findings.get(tamper.VERDICT)
        outcome.tampering = tamper.Verdict(**verdict) if verdict else None
        outcome.notes += _execution_notes(executed)
    outcome.seconds = time.perf_counter() - start
    return outcome

