"""Grade a whole class: collect, repair, autograde in parallel (isolated), merge, feedback, CSV and report.

Layout of the work folder (``calificaciones/<lab>`` by default), an nbgrader course folder::

    gradebook.db, nbgrader_config.py, source/, release/   # the course (formgrader works here)
    entregas/<id>/<lab>.ipynb      # each student's file as received (last version)
    submitted/<id>/<lab>/          # the repaired notebook that was graded
    autograded/<id>/<lab>/         # nbgrader's executed notebook
    feedback/<id>/<lab>/<lab>.html # Spanish feedback for the student
    notas_<lab>.csv, informe_<lab>.txt, estado.json
    _plantilla/                    # a clean course folder copied for each student
    _trabajo/<id>/                 # each student's isolated course folder while being graded
    _trabajadores/                 # the logs of the run's grading workers

Each student is autograded in a copy of ``_plantilla`` (its own ``gradebook.db``), so students can
run in parallel without sharing a database; the scores are then merged into ``gradebook.db`` one
student at a time, in id order, so ``--jobs`` never changes the result. ``--jobs`` grading workers
(:mod:`helpers.instructor.worker`) start with the run and grade one student after another, each in a
fresh sealed kernel warmed ahead of time.
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from . import collect as collecting
from . import colab_outputs, exercises, inert, judge, sandbox, tamper
from .build import HIDDEN_TESTS, student_version
from .nbgrader_io import (CELL_TIMEOUT, LONE_SURROGATE, REPLACEMENT, nbgrader_env, read_notebook, run_nbgrader,
                          write_notebook)
from ..course import COURSE_ID, ROOT, cache_dir, check_lab, existing_labs, lab_notebook
from .execute import RobustExecute
from .repair import NotThisLab, repair
from .worker import MEMORY_GB, NOTEBOOK_TIMEOUT, Job, Settings, Worker, WorkerFailed, WorkerPool
from .vocabulary import Audience, Missing, NotANotebook, Note, Status, StepFailed, for_students

#: Where, in a student's course folder, autograding lists the cells it disabled and its tampering verdict.
INCIDENTS_NAME = "incidencias.json"
TAMPERING_NAME = "manipulacion.json"



@dataclass
class Grade:
    """One student's autograded result for one lab."""

    student: str
    lab: str
    score: float | None
    max_score: float
    manual_pending: int  # written answers still waiting for the instructor (blank ones nbgrader scored 0 are not)
    manual_max: float
    status: Status = Status.GRADED
    file: str = ""
    notes: list[Note] = field(default_factory=list)
    review: str = ""  # what the instructor should look at by hand (tampering, suspicious code)
    manual_score: float = 0.0  # points awarded so far to written answers (by hand, or 0 for a blank one)
    last_file: Status | None = None  # what became of a later file of the same student that did not replace this one

    @property
    def status_text(self) -> str:
        """The status as the CSV and the report say it: "calificado (última entrega: ilegible)"."""
        return f"{self.status} (última entrega: {self.last_file})" if self.last_file else str(self.status)


@dataclass
class Outcome:
    """What autograding one student in isolation produced."""

    student: str
    grades: dict = field(default_factory=dict)  # (notebook, grade_id) -> columns
    comments: dict = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    error: str | None = None
    root: Path | None = None
    seconds: float = 0.0
    tampering: tamper.Verdict | None = None


@dataclass
class ClassResult:
    """Everything a grading run produced: the grades, every file's fate, and the output files."""

    lab: str
    workdir: Path
    grades: list[Grade]
    files: list  # collect.Submission, in name order
    csv: Path
    report: Path
    seconds: float = 0.0
    graded_now: int = 0

    def summary(self) -> str:
        """A short Spanish summary of the run."""
        count = lambda status: sum(1 for f in self.files if f.status is status)  # noqa: E731
        repaired = sum(1 for f in self.files if f.status is Status.GRADED and f.notes)
        graded = [g for g in self.grades if g.score is not None]
        mean = sum(g.score for g in graded) / len(graded) if graded else 0
        top = graded[0].max_score if graded else 0
        return "\n".join([
            f"{self.lab}: {len(self.files)} archivos recibidos.",
            f"  calificados ahora: {count(Status.GRADED)} (con reparaciones: {repaired}); "
            f"sin cambios desde la vez anterior: {count(Status.UNCHANGED)}",
            f"  ilegibles: {count(Status.UNREADABLE)}; de otro laboratorio: {count(Status.OTHER_LAB)}; "
            f"con error al calificar: {count(Status.FAILED)}; ignorados: {count(Status.IGNORED)}",
            f"  en el libro de notas: {len(graded)} estudiantes, media {mean:.2f} de {top:g} puntos automáticos",
            f"  tiempo: {self.seconds:.0f} s; notas en {self.csv}; informe en {self.report}",
        ])

    def problems(self) -> str:
        """The Spanish report: every file, what happened to it and why."""
        lines = [f"Informe de la calificación de {self.lab}", ""]
        review = [g for g in self.grades if g.review]
        if review:
            lines += ["Entregas que conviene revisar a mano:"] + [f"  ! {g.student}: {g.review}" for g in review] + [""]
        doubts = {}
        for f in self.files:
            if f.doubt:
                doubts.setdefault(f.doubt, []).append(f.name)
        if doubts:
            lines += ["Casos dudosos (resueltos como se indica; compruébalos):"]
            lines += [f"  ? {doubt}" + ("" if len(names) > 1 else f" ({names[0]})") for doubt, names in doubts.items()]
            lines += [""]
        for f in self.files:
            who = f" → {f.student}" if f.student else ""
            lines.append(f"- {f.name}{who}: {f.status}")
            if f.received and f.status is not Status.IGNORED:
                lines.append(f"    · recibido el {f.received:%Y-%m-%d %H:%M} UTC ({f.received_from.value})")
            if f.late_mark and f.status is not Status.IGNORED:
                lines.append("    · entregado tarde según la plataforma (LATE en su nombre; no dice cuánto)")
            lines += [f"    · {n}" for n in f.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------- course folders

def fingerprint(lab: str) -> str:
    """A digest of ``lab``'s source folder: a changed answer key or test means a new version of the lab."""
    digest = hashlib.sha256()
    folder = lab_notebook("source", lab).parent
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


#: Ends a grading folder's copy of the course's ``nbgrader_config.py``: see :class:`execute.RefuseAutograde`.
FORMGRADER_GUARD = """
# Added by course grade: only `course grade` autogrades here (sealed, judged outside the kernel); formgrader's
# Autograde button would run the students' code unsealed, so on its own this folder refuses to.
c.Autograde.autograde_preprocessors = ["helpers.instructor.execute.RefuseAutograde"]
"""


def autograde_config(settings: Settings, root: Path):
    """The traitlets ``Config`` that nbgrader autogrades with in ``root`` (a student's copy of the template),
    on top of the course's own: ``settings``' cell time limit, tests that record and are judged outside the
    kernel, tripwires around execution, a kernel crash that costs one cell and not the notebook, and (unless
    ``settings.sandboxed`` is False) every kernel sealed."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    steps = [judge.PrepareTests, tamper.PlantTripwires, RobustExecute, tamper.CheckTripwires, judge.JudgeTests]
    config = Config()
    config.Execute.timeout = settings.cell_timeout
    config.Execute.shutdown_kernel = "immediate"  # after the last cell nothing in the kernel matters: no waiting
    config.Autograde.autograde_preprocessors = [
        step for p in Autograde.class_traits()["autograde_preprocessors"].default()
        for step in (steps if p is Execute else [p])]
    config.RobustExecute.incident_file = str(root / INCIDENTS_NAME)
    config.CheckTripwires.verdict_file = str(root / TAMPERING_NAME)
    config.PrepareTests.reference_file = config.JudgeTests.reference_file = str(root / judge.REFERENCE_NAME)
    config.PrepareTests.perturb_file = str(root / judge.PERTURB_NAME)
    config.JudgeTests.records_file = str(root / judge.RECORDS_NAME)
    config.JudgeTests.course_root = str(root)
    if settings.sandboxed:
        config.RobustExecute.kernel_manager_class = sandbox.SandboxedKernelManager
        config.SandboxedKernelManager.data_dir = str(settings.data)
        config.SandboxedKernelManager.memory_gb = float(settings.memory_gb)
    else:
        config.PlantTripwires.library = config.PrepareTests.library = str(ROOT)
    return config


def _tree_digest(folder: Path, skip: tuple = ()) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in skip):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_template(lab: str, workdir: Path, settings: Settings, log=print, workers: WorkerPool | None = None) -> Path:
    """Make ``workdir/_plantilla`` a clean course folder for ``lab`` (assignment in its gradebook),
    with the reference its tests are judged against (:func:`reference`, graded by ``workers``).

    The template is reused while the lab and the settings are the same and its files still hash to
    what was written; anything else (a changed file, a file added) rebuilds it.
    """
    from nbgrader.converters import GenerateAssignment

    template = workdir / "_plantilla"
    stamp = f"{fingerprint(lab)}/{settings.key()}/{settings.data}"
    if verified_template(template) == stamp:
        return template
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    # the course's own, which autograde_config goes on top of; alone, it refuses to autograde (formgrader's button)
    (template / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + FORMGRADER_GUARD)
    shutil.copytree(lab_notebook("source", lab).parent, lab_notebook("source", lab, template).parent)
    shutil.copy2(empty_gradebook(), template / "gradebook.db")
    result = run_nbgrader(GenerateAssignment, template, lab)
    if not result["success"]:
        raise StepFailed(f"nbgrader no pudo preparar la plantilla de {lab}:\n{result.get('error', '')[-3000:]}")
    _seal(template, stamp)
    (template / judge.REFERENCE_NAME).write_text(json.dumps(reference(lab, template, workdir / "_trabajo", settings,
                                                                     workers, log)))
    _seal(template, stamp)
    return template


def _seal(template: Path, stamp: str) -> None:
    (template / "huella.json").write_text(json.dumps({"clave": stamp, "sha256": _tree_digest(template, ("huella.json",))}))


#: The code whose change changes what is recorded or how it is judged (part of a reference's version).
JUDGING_CODE = ("checks.py", "verdicts.py", "instructor/judge.py")


def reference(lab: str, template: Path, scratch: Path, settings: Settings, workers: WorkerPool | None,
              log=print) -> dict:
    """What ``lab``'s tests are judged against (see :mod:`helpers.instructor.judge`): the answer key
    graded twice in ``template``, the second time with its random generators perturbed. Made once per
    version of the lab and of the judging code, sealed or not, on this machine, and kept in the cache (the
    key's values do not depend on the time and memory limits)."""
    digest = hashlib.sha256(f"{fingerprint(lab)}/{settings.sandboxed}/{settings.data}".encode())
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


def empty_gradebook() -> Path:
    """A gradebook of the course with nothing in it, made once per machine and nbgrader version (nbgrader
    takes seconds to create one: it asks ``alembic`` for the schema's version in a new process)."""
    import nbgrader

    path = cache_dir() / "calificacion" / f"libro-vacio-{nbgrader.__version__}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        subprocess.run([sys.executable, "-c", f"from nbgrader.api import Gradebook; Gradebook({f'sqlite:///{partial}'!r}, {COURSE_ID!r}).close()"],
                       env=nbgrader_env(), check=True, capture_output=True)
        os.replace(partial, path)
    return path


def verified_template(template: Path) -> str | None:
    """The template's stamp if its files are exactly those written when it was made, else None."""
    try:
        mark = json.loads((template / "huella.json").read_text())
    except (OSError, ValueError):
        return None
    return mark["clave"] if _tree_digest(template, ("huella.json",)) == mark.get("sha256") else None


def prepare_course(lab: str, workdir: Path, template: Path, log=print) -> None:
    """Make ``workdir`` the main course folder; a gradebook for an older version of the lab is set aside."""
    stamp = fingerprint(lab)
    mark = workdir / "huella.txt"
    if mark.exists() and mark.read_text() != stamp and (workdir / "gradebook.db").exists():
        old = workdir / f"gradebook.{time.strftime('%Y%m%d-%H%M%S')}.db"
        (workdir / "gradebook.db").rename(old)
        (workdir / "estado.json").unlink(missing_ok=True)
        log(f"El enunciado de {lab} cambió desde la última calificación: el libro de notas anterior se "
            f"guarda como {old.name} y se califica todo de nuevo.")
    for name in ("source", "release"):
        shutil.rmtree(workdir / name / lab, ignore_errors=True)
        shutil.copytree(template / name / lab, workdir / name / lab)
    (workdir / "nbgrader_config.py").write_text((template / "nbgrader_config.py").read_text())
    if not (workdir / "gradebook.db").exists():
        shutil.copy2(template / "gradebook.db", workdir / "gradebook.db")
    mark.write_text(stamp)


# --------------------------------------------------------------------------- one student, isolated

def _read_gradebook(path: Path, lab: str, student: str) -> tuple[dict, dict]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}", COURSE_ID) as gb:
        others = {s.student.id for s in gb.assignment_submissions(lab)} - {student}
        if others:  # a private gradebook holds one student; anything else was not written by us
            raise RuntimeError(f"el libro de notas de {student} contiene otras entregas ({', '.join(sorted(others))})")
        return submission_cells(gb.find_submission(lab, student))


def submission_cells(sub) -> tuple[dict, dict]:
    """An nbgrader submission's grades and comments: ``(notebook, grade_id) -> columns``."""
    grades, comments = {}, {}
    for nb in sub.notebooks:
        for g in nb.grades:
            grades[(nb.name, g.name)] = {
                "auto_score": g.auto_score, "manual_score": g.manual_score, "extra_credit": g.extra_credit,
                "needs_manual_grade": g.needs_manual_grade, "max_score": g.max_score,
                "cell_type": g.cell.cell_type}
        for c in nb.comments:
            comments[(nb.name, c.name)] = {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
    return grades, comments


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
        outcome.grades, outcome.comments = _read_gradebook(root / "gradebook.db", lab, student)
        incidents = root / INCIDENTS_NAME
        if incidents.exists():
            for inc in json.loads(incidents.read_text()):
                outcome.notes.append(Note(f"celda «{inc['cell']}» desactivada: {inc['reason']}; el resto del "
                                          "cuaderno se calificó sin ella"))
        verdict = root / TAMPERING_NAME
        outcome.tampering = tamper.Verdict(**json.loads(verdict.read_text())) if verdict.exists() else None
        executed = read_notebook(autograded)
        outcome.notes += _execution_notes(executed)
    outcome.seconds = time.perf_counter() - start
    return outcome


# --------------------------------------------------------------------------- feedback

def hidden_lines(lab: str) -> set[str]:
    """Every non-trivial line of ``lab``'s hidden tests (what feedback must never show)."""
    lines = set()
    for cell in read_notebook(lab_notebook("source", lab)).cells:
        for block in HIDDEN_TESTS.findall(cell.source if cell.cell_type == "code" else ""):
            lines |= {line.strip() for line in block.splitlines()[1:-1] if len(line.strip()) >= 8}
    return lines


#: Where the feedback says once why the outputs of cells after the first test are missing.
AFTER_TESTS = ("*Las salidas de las celdas que se ejecutaron después de la primera prueba no se muestran (solo su "
               "código): en ese momento el núcleo ya había ejecutado pruebas ocultas. Cada prueba muestra su "
               "resultado.*")
#: Longest test message shown; a longer one is cut.
VERDICT_CHARS = 1500


def feedback_notebook(executed, release, secret: set[str]):
    """The executed notebook as its student may see it, made inert (see :mod:`helpers.instructor.inert`).

    Outputs are shown only for cells that ran before the first test: from then on the kernel had run
    hidden tests, and a student cell could print them in any encoding (from ``In``, linecache, a
    frame...), so later code cells keep their source and lose their outputs (a note at the top says
    so). Test cells show their released source (no hidden part) and only their verdict, the error's
    name and message, unless that message repeats a hidden line, even encoded; an error in another cell
    shows its name and message, without the traceback."""
    nb = inert.inert(executed, release)
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    tests = [i for i, c in enumerate(nb.cells) if judge.is_test(c)]
    for index, cell in enumerate(nb.cells):
        if index in tests:
            original = released.get(cell.metadata["nbgrader"].get("grade_id"))
            cell.source = original.source if original is not None else ""
            cell.outputs = [_verdict(o, secret) for o in cell.get("outputs", []) if o.output_type == "error"]
        elif cell.cell_type == "code" and tests and index > tests[0]:
            cell.outputs = []
        else:  # an error of the student's own cell (a stub still raising, say): its message, not a traceback
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.traceback = [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
        for out in cell.get("outputs", []):  # before any test nothing hidden has run; scrubbed all the same
            if "text" in out:
                out.text = _scrub(out.text, secret)
            if "traceback" in out:
                out.traceback = [_scrub(t, secret) for t in out.traceback]
            if "text/plain" in out.get("data", {}):
                out.data["text/plain"] = _scrub(out.data["text/plain"], secret)
    if tests:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(AFTER_TESTS))
    return nb


def _verdict(error, secret: set[str]):
    """A test's error as the student reads it: ``name: message``, unless it reveals a hidden line."""
    ename, evalue = str(error.get("ename", "")), str(error.get("evalue", ""))
    if reveals(f"{ename}: {evalue}", secret):
        evalue = "[mensaje no mostrado: repite parte de una prueba oculta]"
    elif len(evalue) > VERDICT_CHARS:
        evalue = evalue[:VERDICT_CHARS] + " […]"
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def reveals(text: str, secret: set[str]) -> bool:
    """Whether ``text`` holds a line of ``secret``: as it is, reversed, or inside a run of base64 or hex."""
    import base64
    import binascii
    import re

    readings = [text]
    compact = re.sub(r"\s+", "", text)  # base64 broken into lines, say
    for run in re.findall(r"[A-Za-z0-9+/=_-]{12,}", text) + re.findall(r"[A-Za-z0-9+/=_-]{12,}", compact):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                readings.append(decode(run.rstrip("=") + "=" * (-len(run.rstrip("=")) % 4)).decode("utf-8", "replace"))
            except (ValueError, binascii.Error):
                pass
    for run in re.findall(r"(?:[0-9a-fA-F]{2}){8,}", compact):
        readings.append(bytes.fromhex(run).decode("utf-8", "replace"))
    readings += [r[::-1] for r in readings]
    return any(s in r for s in secret for r in readings)


def _written_answers(manual: dict, titles: dict) -> list[str]:
    """Markdown lines for the written answers: pending ones counted, graded ones with their points."""
    if not manual:
        return []
    pending = [v for v in manual.values() if v["needs_manual_grade"]]
    if len(pending) == len(manual):
        return ["", f"**Respuestas escritas:** {len(manual)} ({sum(v['max_score'] for v in manual.values()):g} "
                "puntos) pendientes de calificación a mano por el profesorado."]
    lines = ["", "| respuesta escrita | puntos | máximo |", "|---|---|---|"]
    lines += [f"| {titles.get(gid, gid)} | {'pendiente' if v['needs_manual_grade'] else f'{cell_points(v):g}'} | "
              f"{v['max_score']:g} |" for gid, v in manual.items()]
    return lines


def _scrub(text, secret: set[str]):
    text = "".join(text) if isinstance(text, list) else text
    if not any(s in text for s in secret):
        return text
    return "\n".join("[línea oculta: parte de una prueba oculta]" if any(s in line for s in secret) else line
                     for line in text.split("\n"))


def cell_points(v: dict) -> float:
    """A cell's points as nbgrader counts them: the instructor's score if any, else the automatic one,
    plus extra credit."""
    score = v["manual_score"] if v["manual_score"] is not None else v["auto_score"]
    return (score or 0) + (v.get("extra_credit") or 0)


def write_feedback(lab: str, student: str, executed: Path, grades: dict, notes: list[Note], out: Path,
                   secret: set[str] | None = None, comments: dict | None = None,
                   late_penalty: float | None = None) -> Path:
    """Write the student's Spanish HTML feedback: points per test, written answers (with the
    instructor's scores and ``comments`` once graded by hand), repairs, then their graded notebook
    (see :func:`feedback_notebook`: no hidden test's source ever appears). With ``late_penalty``
    (``course export``) the page ends its summary with the final grade."""
    from nbconvert import HTMLExporter

    secret = hidden_lines(lab) if secret is None else secret
    release = read_notebook(lab_notebook("release", lab))
    nb = feedback_notebook(read_notebook(executed), release, secret)
    titles = exercises.titles(release)
    auto = {k[1]: v for k, v in grades.items() if v["cell_type"] == "code"}
    manual = {k[1]: v for k, v in grades.items() if v["cell_type"] != "code"}
    score = sum(cell_points(v) for v in auto.values())
    top = sum(v["max_score"] for v in auto.values())
    lines = [f"# Retroalimentación de `{lab}`", "", f"**Estudiante:** `{student}`  ",
             f"**Puntos automáticos:** {score:g} de {top:g}", "", "| ejercicio | puntos | máximo |", "|---|---|---|"]
    lines += [f"| {titles.get(gid, gid)} | {cell_points(v):g} | {v['max_score']:g} |" for gid, v in auto.items()]
    lines += _written_answers(manual, titles)
    said = {k[1]: v["manual_comment"] for k, v in (comments or {}).items() if v.get("manual_comment")}
    if said:
        lines += ["", "**Comentarios del profesorado:**", ""]
        lines += [f"- *{titles.get(gid, gid)}*: {text}" for gid, text in said.items()]
    if late_penalty is not None and not any(v["needs_manual_grade"] for v in manual.values()):
        total = sum(cell_points(v) for v in grades.values())
        if late_penalty:
            lines += ["", f"**Penalización por entrega tardía:** −{late_penalty:g} puntos"]
        lines += ["", f"**Nota final:** {max(total - late_penalty, 0):g} de "
                  f"{sum(v['max_score'] for v in grades.values()):g} puntos"]
    if notes:
        lines += ["", "**Antes de calificar se ajustó tu cuaderno:**", ""] + [f"- {n}" for n in notes]
    lines += ["", "Debajo está tu cuaderno tal como se ejecutó al calificarlo; las pruebas que fallaron "
              "muestran su mensaje de error. El HTML, JavaScript y los enlaces activos de tus celdas se muestran "
              "como texto o no se muestran."]
    # the notes name files and cells the student named: the summary is made inert like their cells
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(inert.inert_markdown("\n".join(lines))))
    nb.metadata["title"] = f"Retroalimentación · {lab} · {student}"
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html.replace('<html>', '<html lang="es">', 1).replace('<html lang="en">', '<html lang="es">', 1))
    return out


# --------------------------------------------------------------------------- merge and read

def _answers(path: Path) -> dict[str, str]:
    """``grade_id`` -> source of every answer cell (code or written) of a submitted notebook."""
    if not path.exists():
        return {}
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in read_notebook(path).cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def merge(lab: str, workdir: Path, outcome: Outcome, sub: collecting.Submission | None = None) -> list[Note]:
    """Put one isolated student's scores into the main gradebook and copy their files over.

    The file ``sub`` gives the student's real name and platform id (nbgrader's ``first_name``,
    ``last_name``, ``lms_user_id``) and the submission's date (its ``timestamp``).

    An instructor's work survives a resubmission: the manual score, extra credit and comment of
    every answer whose text did not change are kept; those of an answer that changed are dropped and
    named in the returned notes (Spanish), so that it is graded again.
    """
    import warnings

    from nbgrader.api import Gradebook

    submitted = lab_notebook(f"submitted/{outcome.student}", lab, workdir)
    before, after = _answers(submitted), _answers(lab_notebook(f"submitted/{outcome.student}", lab, outcome.root))
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        warnings.filterwarnings("ignore", message=".*not in session.*")  # emitted by nbgrader's own add_submission
        _record_student(gb, outcome.student, sub.identity if sub else None)
        manual = _take_manual_work(gb, lab, outcome.student)
        kept = {gid: v for gid, v in manual.items() if gid in after and before.get(gid) == after[gid]}
        _add_submission(gb, lab, outcome, sub.received if sub else None, kept)
        gb.db.commit()
    notes = [Note(f"«{gid}» cambió desde que la calificaste a mano: su nota y su comentario a mano no se conservan; "
                  "vuelve a calificarla en formgrader", Audience.INSTRUCTOR) for gid in sorted(set(manual) - set(kept))]
    if kept:
        notes.append(Note(f"se conservan tus notas y comentarios a mano de {', '.join(f'«{g}»' for g in sorted(kept))} "
                          "(su texto no cambió)", Audience.INSTRUCTOR))
    for folder in ("submitted", "autograded", "feedback"):
        src, dst = outcome.root / folder / outcome.student, workdir / folder / outcome.student
        shutil.rmtree(dst, ignore_errors=True)
        if src.exists():
            shutil.copytree(src, dst)
    return notes


def _record_student(gb, student: str, who: collecting.Identity | None) -> None:
    """The student's real name and platform id in the gradebook; what the platform does not say is left as it
    is (the instructor may have typed it in formgrader)."""
    first, last = who.first_last() if who else (None, None)
    known = {"first_name": first, "last_name": last, "lms_user_id": (who.participant or None) if who else None}
    known = {k: LONE_SURROGATE.sub(REPLACEMENT, v) if v else v for k, v in known.items()}  # SQLite takes UTF-8 only
    gb.update_or_create_student(student, **{k: v for k, v in known.items() if v is not None})


def _take_manual_work(gb, lab: str, student: str) -> dict:
    """The instructor's work on the student's earlier submission (grade_id -> manual score, extra credit,
    comment), which is then removed from the gradebook; nothing if there was none."""
    from nbgrader.api import MissingEntry

    manual = {}
    try:
        for nb in gb.find_submission(lab, student).notebooks:
            for g in nb.grades:
                if g.manual_score is not None or g.extra_credit:
                    manual[g.name] = {"manual_score": g.manual_score, "extra_credit": g.extra_credit}
            for c in nb.comments:
                if c.manual_comment:
                    manual.setdefault(c.name, {})["manual_comment"] = c.manual_comment
        gb.remove_submission(lab, student)
    except MissingEntry:
        pass
    return manual


def _add_submission(gb, lab: str, outcome: Outcome, received: datetime | None, kept: dict) -> None:
    """The isolated run's scores and comments as the student's submission, with the ``kept`` manual work."""
    submitted = gb.add_submission(lab, outcome.student, timestamp=received)
    for nb in submitted.notebooks:
        for g in nb.grades:
            for column, value in outcome.grades.get((nb.name, g.name), {}).items():
                if column not in ("max_score", "cell_type"):
                    setattr(g, column, value)
            if g.name in kept and "manual_score" in kept[g.name]:
                g.manual_score, g.extra_credit = kept[g.name]["manual_score"], kept[g.name]["extra_credit"]
                g.needs_manual_grade = False
        for c in nb.comments:
            for column, value in outcome.comments.get((nb.name, c.name), {}).items():
                setattr(c, column, value)
            if "manual_comment" in kept.get(c.name, {}):
                c.manual_comment = kept[c.name]["manual_comment"]


def submissions_with_grades(gb, lab: str) -> list:
    """Every submission of ``lab`` in the open gradebook ``gb``, with its student, notebooks, grades and their
    cells and points loaded in a few queries: nbgrader's own accessors load them one by one (20 000 queries for
    500 students of lab 5)."""
    from nbgrader.api import Assignment, Grade, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy.orm import joinedload, selectinload, undefer

    grades = selectinload(SubmittedAssignment.notebooks).selectinload(SubmittedNotebook.grades)
    return (gb.db.query(SubmittedAssignment).join(Assignment).filter(Assignment.name == lab)
            .options(joinedload(SubmittedAssignment.student), grades.undefer(Grade.max_score),
                     grades.joinedload(Grade.cell)).all())


def read_grades(lab: str, workdir: Path) -> list[Grade]:
    """The gradebook's autograded scores for ``lab``, one :class:`Grade` per student."""
    from nbgrader.api import Gradebook

    grades = []
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in submissions_with_grades(gb, lab):
            cells = [g for nb in sub.notebooks for g in nb.grades]
            auto = [g for g in cells if g.cell.cell_type == "code"]
            manual = [g for g in cells if g.cell.cell_type != "code"]
            grades.append(Grade(sub.student.id, lab, sum(g.score for g in auto), sum(g.max_score for g in auto),
                                sum(1 for g in manual if g.needs_manual_grade), sum(g.max_score for g in manual),
                                manual_score=sum(g.score for g in manual if not g.needs_manual_grade)))
    return sorted(grades, key=lambda g: g.student)


def gradebook_dump(lab: str, workdir: Path) -> list[tuple]:
    """Every grade in the main gradebook as plain tuples, to compare two runs."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{Path(workdir) / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in submissions_with_grades(gb, lab):
            for nb in sub.notebooks:
                rows += [(sub.student.id, nb.name, g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                         for g in nb.grades]
    return sorted(rows, key=repr)


# --------------------------------------------------------------------------- the whole class

def _other_labs(lab: str) -> dict[str, set[str]]:
    ids = {}
    for other in existing_labs():
        path = lab_notebook("release", other)
        if other != lab and path.exists():
            ids[other] = {c.metadata.get("nbgrader", {}).get("grade_id") for c in read_notebook(path).cells} - {None}
    return ids


def _digest(nb) -> str:
    return hashlib.sha256(json.dumps(nb, sort_keys=True).encode()).hexdigest()[:16]


def write_csv(grades: list[Grade], path: Path) -> Path:
    """Write the grades CSV (Spanish headers): one row per student, ungradable files included."""
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:  # never fails
        w = csv.writer(f)
        w.writerow(["estudiante", "laboratorio", "puntos_automaticos", "maximo_automatico",
                    "respuestas_escritas_pendientes", "puntos_respuestas_escritas", "maximo_respuestas_escritas",
                    "estado", "revisar", "archivo"])
        for g in grades:
            w.writerow([g.student, g.lab, "" if g.score is None else f"{g.score:g}", f"{g.max_score:g}",
                        g.manual_pending, f"{g.manual_score:g}", f"{g.manual_max:g}", g.status_text, g.review, g.file])
    return path


TAMPERED = "manipulación detectada"
SUSPICIOUS = "código que toca las pruebas o el sistema"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    # backslashreplace: a lone surrogate (a file name the file system could not decode) cannot fail the write;
    # inside a JSON string it is written as its escape, which reads back as the same string
    tmp.write_text(text, errors="backslashreplace")
    os.replace(tmp, path)


def grade_class(lab: str, submissions: Path, workdir: Path, jobs: int = 0, pattern: str | None = None,
                cell_timeout: int = CELL_TIMEOUT, notebook_timeout: int = NOTEBOOK_TIMEOUT,
                memory_gb: float = MEMORY_GB, sandboxed: bool = True, due_date: datetime | None = None,
                cluster: str | None = None, log=print) -> ClassResult:
    """Grade every notebook in ``submissions`` (a folder or an LMS zip) for ``lab`` inside ``workdir``.

    The stages, as the README's «Qué hace, por orden» tells them: :func:`receive` (intake), :func:`take_in`
    (repair, and what has not changed since last time), :func:`grade_and_settle` (each student isolated,
    then feedback and the merge into the gradebook) and :func:`write_results` (CSV and report).

    ``due_date`` (aware, or naive in local time) is stored as the assignment's due date, so that
    nbgrader knows how late each submission's date is (the penalty is applied by ``course export``).

    With ``cluster`` (a Dask scheduler's address) the students are graded by that cluster's workers
    (see :mod:`helpers.instructor.cluster`) instead of ``jobs`` local threads; the merge is the same.

    Unless ``sandboxed`` is False (the instructor trusts every student), each kernel runs sealed
    (see :mod:`helpers.instructor.sandbox`) and :class:`sandbox.SandboxUnavailable` is raised where
    that cannot be done. Each student is merged into the gradebook as soon as graded, so a run that
    is interrupted keeps what it graded and the next run goes on from there.
    """
    start = time.perf_counter()
    _check_can_grade(lab, sandboxed, cluster, log)
    settings = Settings(jobs or os.cpu_count() or 1, cell_timeout, notebook_timeout, memory_gb, sandboxed,
                        sandbox.data_folder() if sandboxed else None)
    workdir = Path(workdir).resolve()
    files = receive(Path(submissions), workdir, pattern)
    if sandboxed:
        sandbox.prepare_data(settings.data)
    # The run's grading workers start now, and get ready while the template is built and files repaired.
    notebooks = sum(1 for f in files if f.name.lower().endswith(".ipynb"))
    with nullcontext() if cluster else start_workers(min(settings.jobs, notebooks), workdir / "_trabajadores",
                                                     settings) as workers:
        template = prepare_template(lab, workdir, settings, log, workers)
        prepare_course(lab, workdir, template, log)
        if due_date is not None:
            set_due_date(lab, workdir, due_date)
        run = Run(lab, workdir, settings, _read_state(workdir), {g.student for g in read_grades(lab, workdir)},
                  f"{fingerprint(lab)}/{settings.key()}")
        queue = take_in(run, files)
        grade_and_settle(run, queue, template, cluster, workers, log)
        return write_results(run, files, len(queue), time.perf_counter() - start)


@dataclass
class Run:
    """What one grading run carries from stage to stage."""

    lab: str
    workdir: Path
    settings: Settings
    state: dict  # estado.json: per student, the key of what was graded, its notes and its arrival
    in_gradebook: set[str]  # students graded before this run
    version: str  # the lab's source and the settings: with a notebook's digest, what decides "unchanged"

    def key(self, nb) -> str:
        """What a student's notebook is graded as: the same key next time means nothing to do."""
        return f"{_digest(nb)}/{self.version}"

    def kept(self, student: str) -> str:
        """What a note adds when a student's earlier grade stands."""
        return " (se conserva su calificación anterior)" if student in self.in_gradebook else ""

    def save_state(self) -> None:
        _write_state(self.workdir / "estado.json", self.state)


def _check_can_grade(lab: str, sandboxed: bool, cluster: str | None, log) -> None:
    """Refuse now, before any work, what would stop the run later: no lab, no sandbox, no cluster."""
    check_lab(lab)
    if not lab_notebook("source", lab).exists():
        raise Missing(f"No existe el enunciado de {lab} ({lab_notebook('source', lab)}).")
    if sandboxed:
        sandbox.require()
        if not cluster and (note := sandbox.shares_note()):  # per-process limits only: said once, not an error
            log(note)
    if cluster:  # an unreachable scheduler is said now, not after the template is built
        from .cluster import connect

        connect(cluster).close()


def receive(submissions: Path, workdir: Path, pattern: str | None) -> list:
    """Stage 1, intake: every file of the folder or zip, with whose it is (``collect.Submission``, by name)."""
    workdir.mkdir(parents=True, exist_ok=True)
    folder, refused = collecting.unpack(submissions, workdir / "_recibido")
    files = sorted(collecting.collect(folder, pattern, zipped=folder != submissions) + refused, key=lambda f: f.name)
    if not any(f.name.lower().endswith(".ipynb") for f in files):
        raise Missing(f"No hay cuadernos (.ipynb) en {submissions}.")
    return files


def _read_state(workdir: Path) -> dict:
    path = workdir / "estado.json"
    return json.loads(path.read_text()) if path.exists() else {}


def take_in(run: Run, files: list) -> dict:
    """Stage 2, repair: each pending file read, repaired and kept in ``entregas/``; a notebook graded before
    exactly as it is now keeps its grades (``Status.UNCHANGED``). Returns the queue: student -> (file, notebook)."""
    release = read_notebook(lab_notebook("release", run.lab))
    others = _other_labs(run.lab)
    queue = {}
    for f in files:
        if f.status is not Status.PENDING:
            continue
        try:  # one file never stops the class: whatever fails here fails this student alone
            nb = _repair_one(run.lab, run.workdir, f, release, others, run.kept(f.student))
            if nb is None:
                continue
            before = run.state.get(f.student, {})
            if before.get("clave") == run.key(nb) and f.student in run.in_gradebook:
                f.status = Status.UNCHANGED
                f.notes = [Note.from_record(n) for n in before["notas"]] if "notas" in before else f.notes
                before.update(arrival(f))
                continue
            queue[f.student] = (f, nb)
        except Exception as e:
            _give_up(f, "al recibirlo o repararlo", e, run.kept(f.student))
    return queue


def grade_and_settle(run: Run, queue: dict, template: Path, cluster: str | None, workers, log) -> None:
    """Stage 3, grade: each queued student graded in isolation, then settled here one by one (feedback, merge into
    the gradebook, state); whatever fails, fails that student alone."""
    if queue:
        log(f"Calificando {len(queue)} entregas de {run.lab} "
            + (f"en los trabajadores del clúster {cluster}" if cluster
               else f"con {run.settings.jobs} procesos en paralelo")
            + (", cada una aislada..." if run.settings.sandboxed else " SIN AISLAMIENTO (--no-sandbox)..."))
    secret = hidden_lines(run.lab)
    students = [(sid, nb) for sid, (_, nb) in sorted(queue.items())]
    settled = set()
    try:
        for sid, outcome in _graded(run.lab, students, template, run.workdir / "_trabajo", run.settings, cluster,
                                    workers):
            settled.add(sid)
            _settle_one(run, *queue[sid], outcome, secret)
    except Exception as e:  # the run's grading itself broke down: who was not graded yet is said so
        for sid in sorted(queue.keys() - settled):
            _give_up(queue[sid][0], "de la tanda, antes de calificarlo", e, run.kept(sid))
    run.save_state()


def _settle_one(run: Run, f, nb, outcome: Outcome, secret: set[str]) -> None:
    """One graded student's feedback, merge and state; a failure here fails this student alone."""
    try:
        _settle(run.lab, run.workdir, f, nb, outcome, secret, f.student in run.in_gradebook)
        if f.status is Status.GRADED:
            run.state[f.student] = {"clave": run.key(nb), "archivo": f.name, "notas": [n.record() for n in f.notes],
                                    "revisar": f.review, **arrival(f)}
            run.save_state()
    except Exception as e:
        _give_up(f, "al registrar su calificación (retroalimentación, libro de notas)", e, run.kept(f.student))
        if outcome.root:
            shutil.rmtree(outcome.root, ignore_errors=True)


def write_results(run: Run, files: list, graded_now: int, seconds: float) -> ClassResult:
    """Stage 4, write: every student's row (from the gradebook, with this run's statuses) in the CSV, and the
    report of every file."""
    grades = {g.student: g for g in read_grades(run.lab, run.workdir)}
    for sid, g in grades.items():
        g.file = run.state.get(sid, {}).get("archivo", "")
        g.notes = [Note.from_record(n) for n in run.state.get(sid, {}).get("notas", [])]
        g.review = run.state.get(sid, {}).get("revisar", "")
        g.status = Status.GRADED
    top = next(iter(grades.values())).max_score if grades else 0
    for f in files:
        if f.student and f.student in grades:
            if f.status in (Status.GRADED, Status.UNCHANGED):
                grades[f.student].status = f.status
            elif f.status is not Status.IGNORED:
                grades[f.student].last_file = f.status
        elif f.student and f.status is not Status.IGNORED and f.student not in grades:
            grades[f.student] = Grade(f.student, run.lab, None, top, 0, 0, f.status, f.name, f.notes)
    rows = [grades[s] for s in sorted(grades)]
    result = ClassResult(run.lab, run.workdir, rows, files, write_csv(rows, run.workdir / f"notas_{run.lab}.csv"),
                         run.workdir / f"informe_{run.lab}.txt", seconds, graded_now)
    result.report.write_text(result.problems() + "\n", errors="backslashreplace")
    return result


def _repair_one(lab: str, workdir: Path, f, release, others: dict, kept: str):
    """Read and repair one pending file and keep its original in ``entregas/<id>/``; return the repaired
    notebook, or None when it cannot be graded (``f``'s status and notes say why)."""
    if f.path.stat().st_size == 0:
        f.status = Status.UNREADABLE
        f.notes.append(Note("archivo vacío (0 bytes): no se califica" + kept))
        return None
    try:
        repaired = repair(read_notebook(f.path, f.notes), release, lab, others)
    except NotThisLab as e:
        f.status = Status.OTHER_LAB
        f.notes.append(Note(f"{e}; no se califica{kept}"))
        return None
    except NotANotebook as e:
        f.status = Status.UNREADABLE
        why = "JSON roto o incompleto" if "JSON" in e.reason else e.kind
        f.notes.append(Note(f"no es un cuaderno de Jupyter válido ({why}); no se califica{kept}"))
        return None
    f.notes += [Note(n) for n in repaired.notes]
    original = workdir / "entregas" / f.student / f"{lab}.ipynb"
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(f.path, original)  # as received, byte for byte
    return repaired.nb


def _give_up(f, when: str, error: Exception, kept: str) -> None:
    """Mark ``f`` «error al calificar»: something failed unexpectedly ``when`` (Spanish); the class goes on."""
    f.status = Status.FAILED
    f.notes.append(Note(f"fallo inesperado {when} ({type(error).__name__}: {error}); no se califica{kept}"))


def _write_state(path: Path, state: dict) -> None:
    _write_atomically(path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))


def _graded(lab: str, students: list, template: Path, scratch: Path, settings: Settings, cluster: str | None,
            workers: WorkerPool | None):
    """Yield ``(student, Outcome)`` as each of ``students`` (``(id, notebook)``) is graded: by the run's
    ``workers``, ``settings.jobs`` at a time, or by the workers of the Dask cluster at ``cluster``."""
    if cluster:
        from .cluster import grade_on_cluster  # imports this module: only when asked for

        yield from grade_on_cluster(cluster, lab, students, scratch, settings)
        return
    workers.expect(len(students))
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        futures = {pool.submit(autograde_isolated, lab, sid, nb, template, scratch, settings, workers): sid
                   for sid, nb in students}
        for future in as_completed(futures):
            yield futures[future], future.result()


def arrival(f: collecting.Submission) -> dict:
    """What ``estado.json`` keeps of a graded file for ``course export``: who sent it, and when."""
    return {"identidad": f.identity.record(), "recibido": f.received.isoformat() if f.received else None,
            "fecha_de": f.received_from.name if f.received_from else None, "tarde_en_plataforma": f.late_mark}


def set_due_date(lab: str, workdir: Path, due_date: datetime) -> None:
    """Store ``due_date`` as the lab's due date in the main gradebook (in UTC, as nbgrader keeps dates)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        gb.update_or_create_assignment(lab, duedate=due_date.astimezone(timezone.utc).replace(tzinfo=None))


def _settle(lab: str, workdir: Path, f, nb, outcome: Outcome, secret: set[str], graded_before: bool) -> None:
    """Record one student's outcome: notes, review flags, feedback, and the merge into the gradebook."""
    f.review = ""
    if outcome.error:
        f.status = Status.FAILED
        f.notes.append(Note(outcome.error + (" (se conserva su calificación anterior)" if graded_before else "")))
    else:
        f.notes += outcome.notes
        flags = []
        if outcome.tampering and outcome.tampering.tampered:
            flags.append(TAMPERED)
            f.notes.append(Note(f"MANIPULACIÓN DETECTADA {outcome.tampering.where}: "
                                f"{'; '.join(outcome.tampering.findings)}. Sin puntos en {len(outcome.tampering.zeroed)} "
                                f"pruebas ({', '.join(outcome.tampering.zeroed) or 'ninguna'}); revísala a mano",
                                Audience.INSTRUCTOR))
        lines = tamper.suspicious_lines(nb)
        if lines:
            flags.append(SUSPICIOUS)
            f.notes.append(Note("código que conviene revisar (toca las pruebas o el sistema): " + " | ".join(lines[:10]),
                                Audience.INSTRUCTOR))
        f.review = "; ".join(flags)
        f.status = Status.GRADED
        autograded = lab_notebook(f"autograded/{outcome.student}", lab, outcome.root)
        write_notebook(colab_outputs.beside_answers(read_notebook(autograded), nb,  # what the answers discuss
                                                    read_notebook(lab_notebook("source", lab))), autograded)
        inert.make_file_inert(autograded, read_notebook(lab_notebook("release", lab)))  # as formgrader shows it
        write_feedback(lab, outcome.student, autograded, outcome.grades, for_students(f.notes),
                       outcome.root / "feedback" / outcome.student / lab / f"{lab}.html", secret)
        f.notes += merge(lab, workdir, outcome, f)
    shutil.rmtree(outcome.root, ignore_errors=True)


def grade(lab: str, submissions: Path, workdir: Path, log=print, **options) -> list[Grade]:
    """Autograde every notebook in ``submissions`` for ``lab`` inside ``workdir``; return the gradebook's grades."""
    return [g for g in grade_class(lab, submissions, workdir, log=log, **options).grades if g.score is not None]


def grade_table(grades: list[Grade]) -> str:
    """A plain-text table of grades, in Spanish."""
    rows = [("estudiante", "laboratorio", "automático", "máximo", "por revisar a mano", "estado")]
    rows += [(g.student, g.lab, "—" if g.score is None else f"{g.score:g}", f"{g.max_score:g}",
              f"{g.manual_pending} respuestas ({g.manual_max:g} puntos)", g.status_text) for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)
