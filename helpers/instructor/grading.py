"""Grade a whole class, stage by stage (:func:`grade_class`): receive, take in (repair), grade and settle
(feedback, merge into the gradebook), write results (CSV and report).

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

The stages' parts live in modules of their own: :mod:`.collect` (intake), :mod:`.repair`, :mod:`.isolated`
(the template and one student graded alone), :mod:`.feedback`, :mod:`.gradebook` (the gradebook and
``estado.json``) and :mod:`.records` (what a run produces, as values).
"""
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..course import check_lab, existing_labs, lab_notebook
from . import collect, colab_outputs, inert, sandbox, tamper
from .cluster import connect, grade_on_cluster
from .feedback import hidden_lines, write_feedback
from .gradebook import (StudentRecord, gradebook_path, merge, read_grades, read_state, set_aside, set_due_date,
                        write_state)
from .isolated import autograde_isolated, fingerprint, lab_version, prepare_template, start_workers
from .nbgrader_io import CELL_TIMEOUT, read_notebook, write_notebook
from .records import ClassResult, Grade, Outcome, write_csv
from .repair import NotThisLab, repair
from .settings import MEMORY_GB, NOTEBOOK_TIMEOUT, Settings
from .vocabulary import Audience, Missing, NotANotebook, Note, Status, for_students
from .worker import WorkerPool

TAMPERED = "manipulación detectada"
SUSPICIOUS = "código que toca las pruebas o el sistema"


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
    source = fingerprint(lab)  # the lab's version, computed once
    # The run's grading workers start now, and get ready while the template is built and files repaired.
    notebooks = sum(1 for f in files if f.name.lower().endswith(".ipynb"))
    with nullcontext() if cluster else start_workers(min(settings.jobs, notebooks), workdir / "_trabajadores",
                                                     settings) as workers:
        template = prepare_template(lab, source, workdir, settings, log, workers)
        prepare_course(lab, source, workdir, template, log)
        if due_date is not None:
            set_due_date(lab, workdir, due_date)
        run = Run(lab, workdir, settings, read_state(workdir), {g.student for g in read_grades(lab, workdir)},
                  lab_version(source, settings), read_notebook(lab_notebook("release", lab)),
                  read_notebook(lab_notebook("source", lab)), hidden_lines(lab))
        queue = take_in(run, files)
        grade_and_settle(run, queue, template, cluster, workers, log)
        return write_results(run, files, len(queue), time.perf_counter() - start)


@dataclass
class Run:
    """What one grading run carries from stage to stage."""

    lab: str
    workdir: Path
    settings: Settings
    state: dict[str, StudentRecord]  # estado.json
    in_gradebook: set[str]  # students graded before this run
    version: str  # isolated.lab_version: with a notebook's digest, what decides "unchanged"
    release: object  # the lab's released notebook: what submissions are repaired against and made inert with
    instructor: object  # its source notebook: where the outputs the written answers discuss are
    secret: set[str]  # the lines of its hidden tests, which no feedback shows

    def key(self, nb) -> str:
        """What a student's notebook is graded as: the same key next time means nothing to do."""
        return f"{_digest(nb)}/{self.version}"

    def kept(self, student: str) -> str:
        """What a note adds when a student's earlier grade stands."""
        return " (se conserva su calificación anterior)" if student in self.in_gradebook else ""

    def save_state(self) -> None:
        write_state(self.workdir, self.state)


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
        connect(cluster).close()


def receive(submissions: Path, workdir: Path, pattern: str | None) -> list:
    """Stage 1, intake: every file of the folder or zip, with whose it is (``collect.Submission``, by name)."""
    workdir.mkdir(parents=True, exist_ok=True)
    folder, refused = collect.unpack(submissions, workdir / "_recibido")
    files = sorted(collect.collect(folder, pattern, zipped=folder != submissions) + refused, key=lambda f: f.name)
    if not any(f.name.lower().endswith(".ipynb") for f in files):
        raise Missing(f"No hay cuadernos (.ipynb) en {submissions}.")
    return files


def take_in(run: Run, files: list) -> dict:
    """Stage 2, repair: each pending file read, repaired and kept in ``entregas/``; a notebook graded before
    exactly as it is now keeps its grades (``Status.UNCHANGED``). Returns the queue: student -> (file, notebook,
    the key it is graded as)."""
    others = _other_labs(run.lab)
    queue = {}
    for f in files:
        if f.status is not Status.PENDING:
            continue
        try:  # one file never stops the class: whatever fails here fails this student alone
            nb = _repair_one(run.lab, run.workdir, f, run.release, others, run.kept(f.student))
            if nb is None:
                continue
            key, before = run.key(nb), run.state.get(f.student)
            if before is not None and before.key == key and f.student in run.in_gradebook:
                f.status, f.notes = Status.UNCHANGED, before.notes
                before.arrived(f)
                continue
            queue[f.student] = (f, nb, key)
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
    students = [(sid, nb) for sid, (_, nb, _) in sorted(queue.items())]
    settled = set()
    try:
        for sid, outcome in _graded(run, students, template, cluster, workers):
            settled.add(sid)
            _settle_one(run, *queue[sid], outcome)
    except Exception as e:  # the run's grading itself broke down: who was not graded yet is said so
        for sid in sorted(queue.keys() - settled):
            _give_up(queue[sid][0], "de la tanda, antes de calificarlo", e, run.kept(sid))
    run.save_state()


def _settle_one(run: Run, f, nb, key: str, outcome: Outcome) -> None:
    """One graded student's feedback, merge and state; a failure here fails this student alone."""
    try:
        _settle(run, f, nb, outcome)
        if f.status is Status.GRADED:
            run.state[f.student] = record = StudentRecord(key, f.name, list(f.notes), f.review)
            record.arrived(f)
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
        record = run.state.get(sid, StudentRecord())
        g.file, g.notes, g.review, g.status = record.file, record.notes, record.review, Status.GRADED
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


# --------------------------------------------------------------------------- the stages' parts

def prepare_course(lab: str, source: str, workdir: Path, template: Path, log=print) -> None:
    """Make ``workdir`` the main course folder for the version ``source`` of ``lab`` (its :func:`fingerprint`); a
    gradebook for an older version is set aside."""
    mark = workdir / "huella.txt"
    if mark.exists() and mark.read_text() != source and gradebook_path(workdir).exists():
        old = set_aside(workdir, time.strftime('%Y%m%d-%H%M%S'))
        log(f"El enunciado de {lab} cambió desde la última calificación: el libro de notas anterior se "
            f"guarda como {old.name} y se califica todo de nuevo.")
    for name in ("source", "release"):
        shutil.rmtree(workdir / name / lab, ignore_errors=True)
        shutil.copytree(template / name / lab, workdir / name / lab)
    (workdir / "nbgrader_config.py").write_text((template / "nbgrader_config.py").read_text())
    if not gradebook_path(workdir).exists():
        shutil.copy2(gradebook_path(template), gradebook_path(workdir))
    mark.write_text(source)


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


def _graded(run: Run, students: list, template: Path, cluster: str | None, workers: WorkerPool | None):
    """Yield ``(student, Outcome)`` as each of ``students`` (``(id, notebook)``) is graded, in ``_trabajo/``: by
    the run's ``workers``, ``settings.jobs`` at a time, or by the workers of the Dask cluster at ``cluster``."""
    scratch = run.workdir / "_trabajo"
    if cluster:
        yield from grade_on_cluster(cluster, run.lab, run.version, students, scratch, run.settings)
        return
    workers.expect(len(students))
    with ThreadPoolExecutor(max_workers=run.settings.jobs) as pool:
        futures = {pool.submit(autograde_isolated, run.lab, sid, nb, template, scratch, run.settings, workers): sid
                   for sid, nb in students}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _settle(run: Run, f, nb, outcome: Outcome) -> None:
    """Record one student's outcome: notes, review flags, feedback, and the merge into the gradebook."""
    f.review = ""
    if outcome.error:
        f.status = Status.FAILED
        f.notes.append(Note(outcome.error + run.kept(f.student)))
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
        autograded = lab_notebook(f"autograded/{outcome.student}", run.lab, outcome.root)
        # the outputs the written answers discuss go beside them; then inert, as formgrader shows it
        write_notebook(colab_outputs.beside_answers(read_notebook(autograded), nb, run.instructor), autograded)
        inert.make_file_inert(autograded, run.release)
        write_feedback(run.lab, outcome.student, autograded, outcome.grades, for_students(f.notes),
                       outcome.root / "feedback" / outcome.student / run.lab / f"{run.lab}.html", run.secret,
                       release=run.release)
        f.notes += merge(run.lab, run.workdir, outcome, f)
    shutil.rmtree(outcome.root, ignore_errors=True)


def _other_labs(lab: str) -> dict[str, set[str]]:
    ids = {}
    for other in existing_labs():
        path = lab_notebook("release", other)
        if other != lab and path.exists():
            ids[other] = {c.metadata.get("nbgrader", {}).get("grade_id") for c in read_notebook(path).cells} - {None}
    return ids


def _digest(nb) -> str:
    return hashlib.sha256(json.dumps(nb, sort_keys=True).encode()).hexdigest()[:16]


def grade(lab: str, submissions: Path, workdir: Path, log=print, **options) -> list[Grade]:
    """Autograde every notebook in ``submissions`` for ``lab`` inside ``workdir``; return the gradebook's grades."""
    return [g for g in grade_class(lab, submissions, workdir, log=log, **options).grades if g.score is not None]
