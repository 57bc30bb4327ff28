"""Each student's Spanish feedback page: points per test and per written answer, what was adjusted in their
notebook, and the notebook as it ran, made inert and with nothing of the hidden tests in it."""
import base64
import binascii
import re
from pathlib import Path

import nbformat

from ..course import lab_notebook
from . import exercises, inert, judge
from .build import HIDDEN_TESTS
from .gradebook import cell_points
from .nbgrader_io import read_notebook
from .vocabulary import Note


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


def write_feedback(lab: str, student: str, executed: Path, grades: dict, notes: list[Note], out: Path,
                   secret: set[str] | None = None, comments: dict | None = None,
                   late_penalty: float | None = None, release=None) -> Path:
    """Write the student's Spanish HTML feedback: points per test, written answers (with the
    instructor's scores and ``comments`` once graded by hand), repairs, then their graded notebook
    (see :func:`feedback_notebook`: no hidden test's source ever appears). With ``late_penalty``
    (``course export``) the page ends its summary with the final grade. ``secret`` (:func:`hidden_lines`) and
    ``release`` (the lab's released notebook) are read when not given."""
    from nbconvert import HTMLExporter

    secret = hidden_lines(lab) if secret is None else secret
    release = read_notebook(lab_notebook("release", lab)) if release is None else release
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

