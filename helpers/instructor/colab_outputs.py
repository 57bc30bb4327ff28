"""The student's own Colab outputs beside each written answer that discusses them.

Grading runs the notebook again on tiny stand-in data, so the figures and numbers in the graded
notebook are not those the student saw in Colab and wrote about. The source notebook names, in a
written answer's metadata (``"course": {"discusses": [cell ids]}``), the cells whose outputs the answer
discusses; :func:`beside_answers` puts right before that answer a markdown cell, clearly labelled, with
those cells' outputs *as submitted* (text, and PNG/JPEG figures only). Whoever grades the answer in
formgrader, and the student in the feedback, see them next to the re-run.

The cell is markdown, so it goes through :mod:`helpers.instructor.inert` like any markdown a student
wrote, and the feedback keeps it (code cells after the first test lose their outputs there).
"""
import copy

import nbformat

from . import inert

#: The marker of the cells this module adds (their metadata: ``{"course": {MARK: grade_id}}``).
MARK = "colab_outputs"
#: Longest text kept of one output; a longer one is cut, saying so.
TEXT_CHARS = 3000
HEADING = ("**Tus salidas en Colab para la pregunta siguiente**, tal como las entregaste. Al calificar, el "
           "cuaderno se volvió a ejecutar con datos de prueba diminutos: las salidas de esas celdas, más "
           "arriba, no son las tuyas; estas sí.")
NONE_SUBMITTED = "*(sin salidas en el cuaderno entregado: ¿lo ejecutaste en Colab antes de descargarlo?)*"


def _course(cell) -> dict:
    meta = cell.metadata.get("course")
    return meta if isinstance(meta, dict) else {}


def discussed(source) -> dict[str, list[str]]:
    """``grade_id`` of each written answer of the source notebook -> ids of the cells it discusses."""
    found = {}
    for cell in source.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        ids = _course(cell).get("discusses")
        if gid and ids:
            found[gid] = list(ids)
    return found


def _fenced(text: str) -> str:
    """``text`` as a fenced code block that nothing inside can close."""
    if len(text) > TEXT_CHARS:
        text = text[:TEXT_CHARS] + f"\n[… {len(text) - TEXT_CHARS} caracteres más no se muestran]"
    run, longest = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _markdown(outputs) -> list[str]:
    """Each output, made inert, as markdown: a figure as an embedded image, anything else as text."""
    parts = []
    for out in inert.inert_outputs(copy.deepcopy(outputs)):
        if out.output_type == "stream":
            parts.append(_fenced(out.text))
        elif out.output_type == "error":
            parts.append(_fenced(f"{out.get('ename', '')}: {out.get('evalue', '')}"))
        else:
            data = out.get("data", {})
            image = next((kind for kind in inert.IMAGES if kind in data), None)
            if image:
                parts.append(f"![figura entregada](data:{image};base64,{data[image]})")
            elif "text/plain" in data:
                parts.append(_fenced(data["text/plain"]))
    return parts


def _first_line(source: str) -> str:
    line = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return (line[:77] + "…" if len(line) > 80 else line).replace("`", "'")


def beside_answers(nb, submitted, source):
    """A copy of the graded notebook ``nb`` with, before each written answer that ``source`` says
    discusses some cells, a markdown cell with the outputs of those cells in ``submitted`` (the notebook
    as the student handed it in). Cells this module added before are replaced, never duplicated."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if MARK not in _course(c)]
    wanted = discussed(source)
    sent = {c.get("id"): c for c in submitted.cells}
    taken = {c.get("id") for c in nb.cells}
    for index in reversed(range(len(nb.cells))):
        gid = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
        if gid not in wanted or nb.cells[index].cell_type != "markdown":
            continue
        parts = [HEADING]
        for cid in wanted[gid]:
            cell = sent.get(cid)
            if cell is None or cell.cell_type != "code":
                continue
            shown = _markdown(cell.get("outputs", []))
            parts.append(f"*Salida de la celda que empieza por* `{_first_line(cell.source)}`:")
            parts += shown or [NONE_SUBMITTED]
        added = nbformat.v4.new_markdown_cell("\n\n".join(parts), metadata={"course": {MARK: gid}})
        added.id = next(f"{MARK.replace('_', '-')}-{gid}-{n}"[:64] for n in range(len(nb.cells) + 1)
                        if f"{MARK.replace('_', '-')}-{gid}-{n}"[:64] not in taken)
        nb.cells.insert(index, added)
    return nb
