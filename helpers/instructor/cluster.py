"""Grading past one machine: the same per-student grading, run by the workers of a Dask cluster.

``course grade LAB ENTREGAS --cluster tcp://HOST:8786`` sends each student to the workers of an
existing Dask distributed scheduler instead of local threads. Nothing travels but values: the task
carries the lab name, the student id, the repaired notebook (JSON text), the limits and the version
of the lab the instructor grades; it returns the :class:`~.records.Outcome` and a zip of the student's
``submitted/`` and ``autograded/`` folders. The coordinator unpacks that zip into its own scratch
folder and merges it exactly as a local run does, so the gradebook is the same whatever the cluster.

A worker grades in its own course checkout, sandboxed as on the instructor's machine. If that
checkout holds another version of the lab (or other limits) the student gets "error al calificar"
naming the mismatch: never a grade from a different answer key.
"""
import dataclasses
import fcntl
import hashlib
import io
import shutil
import socket
import tempfile
import uuid
import zipfile
from pathlib import Path

import nbformat

from . import sandbox
from .isolated import autograde_isolated, fingerprint, lab_version, prepare_template
from .records import Outcome
from .settings import Settings
from .vocabulary import StepFailed

#: What a task returns besides the outcome: the folders :func:`.gradebook.merge` reads from a student's root.
PACKED = ("submitted", "autograded")


class ClusterUnavailable(StepFailed):
    """The Dask scheduler cannot be used (not installed, not reachable); the message says what to do."""


def grade_remotely(lab: str, student: str, notebook: str, version: str,
                   settings: Settings) -> tuple[Outcome, bytes]:
    """On a worker: grade one student in a worker-local template; return the outcome and the packed folders.
    ``version`` is the coordinator's :func:`~.isolated.lab_version`: the worker's must be the same."""
    local = dataclasses.replace(settings, data=sandbox.data_folder() if settings.sandboxed else None)
    source = fingerprint(lab)
    found = lab_version(source, local)
    if found != version:
        return Outcome(student, error=(
            f"el trabajador {socket.gethostname()} tiene otra versión de {lab} o de los límites de calificación "
            f"({found}, aquí {version}): pon en él la misma copia del curso y vuelve a calificar")), b""
    base = Path(tempfile.gettempdir()) / "dl-curso-cluster" / hashlib.sha256(found.encode()).hexdigest()[:16]
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "cerrojo", "w") as lock:  # one template per worker machine, built once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if settings.sandboxed:
            sandbox.require()
            sandbox.prepare_data(local.data)
        template = prepare_template(lab, source, base, local, log=lambda *_: None)
    outcome = autograde_isolated(lab, student, nbformat.reads(notebook, as_version=4), template,
                                         base / "_trabajo", local)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder in PACKED:
            for path in sorted((outcome.root / folder).rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(outcome.root).as_posix())
    shutil.rmtree(outcome.root, ignore_errors=True)
    outcome.root = None
    return outcome, packed.getvalue()


def _unpack(packed: bytes, root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    if not packed:  # a student that could not be graded: nothing came back
        return
    with zipfile.ZipFile(io.BytesIO(packed)) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if root.resolve() not in target.parents or info.filename.split("/")[0] not in PACKED:
                continue  # only the student's own folders, inside root
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))


#: Seconds to wait for the scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 15


def connect(address: str):
    """A Dask client for the scheduler at ``address``, or :class:`ClusterUnavailable` saying why not."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable("Para --cluster hace falta Dask distributed: pip install distributed") from None
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterUnavailable(
            f"No se pudo conectar con el planificador de Dask en {address} ({type(e).__name__}). Comprueba que "
            "«dask scheduler» está en marcha en esa máquina, la dirección y el puerto (por defecto "
            "tcp://HOST:8786) y que esta máquina llega a él.") from None


def grade_on_cluster(address: str, lab: str, version: str, students: list[tuple[str, object]], scratch: Path,
                     settings: Settings):
    """Yield ``(student, Outcome)`` as the cluster's workers finish each student of ``students``
    (``(id, repaired notebook)`` pairs) of ``lab`` in its :func:`~.isolated.lab_version` ``version``; each
    outcome's files are unpacked into ``scratch/<id>``."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    with connect(address) as client:
        futures = {client.submit(grade_remotely, lab, sid, nbformat.writes(nb), version, settings,
                                 key=f"calificar-{lab}-{sid}-{run}", pure=False): sid for sid, nb in students}
        for future in as_completed(futures):
            sid = futures[future]
            try:
                outcome, packed = future.result()
            except Exception as e:  # a worker lost, a task that could not run: that student only
                outcome, packed = Outcome(sid, error=f"el clúster no pudo calificarlo ({type(e).__name__}: "
                                                              f"{e})"), b""
            outcome.root = scratch / sid
            _unpack(packed, outcome.root)
            yield sid, outcome
