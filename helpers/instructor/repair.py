"""Reconcile a student's notebook with the release before autograding, noting every repair in Spanish.

Cells are matched to the release by nbgrader ``grade_id``, then (for cells whose metadata was
stripped) by cell id, by identical source, and finally by resemblance within the stretch of the
notebook where the release has them. Then:

- locked cells (tests, setup) always come from the release: a deleted, emptied, edited or
  markdown-ified one is restored (edited text the student typed into one is kept as a raw cell);
- solution cells keep the student's code, with the release's nbgrader metadata and cell type;
- a deleted graded cell is restored from the release; duplicated cells keep one graded copy (the
  student's extra code stays as an ordinary cell; copies of locked cells are dropped);
- cells go back into the release's order; the student's own cells follow the cell they followed.
"""
import copy
import re
from dataclasses import dataclass, field

import nbformat

from .stubs import is_stub_line

STUB_LINES = {"# TU CÓDIGO AQUÍ", "ESCRIBE TU RESPUESTA AQUÍ", ""}


class NotThisLab(ValueError):
    """The notebook is readable but is not a submission of the lab being graded."""


@dataclass
class Repaired:
    """A repaired notebook and the Spanish notes describing every change."""

    nb: object
    notes: list[str] = field(default_factory=list)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def _norm(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _label(cell) -> str:
    return _meta(cell).get("grade_id") or cell.get("id") or "?"


def _kind(rcell) -> str:
    m = _meta(rcell)
    if m.get("grade") and not m.get("solution"):
        return "de pruebas"
    if m.get("solution"):
        return "de solución" if rcell.cell_type == "code" else "de respuesta escrita"
    return "bloqueada"


def _anchor_lines(source: str) -> set[str]:
    return {line.strip() for line in _norm(source).splitlines() if not is_stub_line(line)} - STUB_LINES


def _resemblance(rcell, scell) -> float:
    """The share of ``rcell``'s own lines (not its stub) found in ``scell``; 0 for a cell that is all stub."""
    anchors = _anchor_lines(rcell.source)
    mine = {line.strip() for line in _norm(scell.source).splitlines()}
    return len(anchors & mine) / len(anchors) if anchors else 0.0


def _moved(sequence: list[int]) -> set[int]:
    """Elements of ``sequence`` outside one longest increasing subsequence (the cells that were moved)."""
    if not sequence:
        return set()
    best = [1] * len(sequence)
    prev = [-1] * len(sequence)
    for i in range(len(sequence)):
        for j in range(i):
            if sequence[j] < sequence[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    i = max(range(len(sequence)), key=lambda k: best[k])
    keep = set()
    while i >= 0:
        keep.add(sequence[i])
        i = prev[i]
    return set(sequence) - keep


def repair(student, release, lab: str, other_labs: dict[str, set[str]] | None = None) -> Repaired:
    """Return ``student`` reconciled with ``release`` (both nbformat v4 notebooks) and the notes.

    Raise :class:`NotThisLab` (Spanish message) if no graded cell of the release can be found in it;
    ``other_labs`` maps other labs to their ``grade_id``s, to say whose notebook it looks like.
    """
    notes: list[str] = []
    rcells, scells = release.cells, list(student.cells)
    r_by_id = {_meta(c).get("grade_id"): i for i, c in enumerate(rcells) if _meta(c).get("grade_id")}
    graded = [i for i, c in enumerate(rcells) if _meta(c).get("grade_id")]
    match: dict[int, int] = {}  # student index -> release index
    taken: set[int] = set()
    how: dict[int, str] = {}
    dropped: set[int] = set()
    foreign: set[str] = set()

    # 1. by grade_id (duplicates: the first keeps the grade)
    for j, c in enumerate(scells):
        gid = _meta(c).get("grade_id")
        if not gid:
            continue
        if gid not in r_by_id:
            foreign.add(gid)
            c.metadata.pop("nbgrader", None)
            continue
        i = r_by_id[gid]
        if i in taken:
            c.metadata.pop("nbgrader", None)
            if _meta(rcells[i]).get("solution"):
                notes.append(f"celda {_kind(rcells[i])} «{gid}» duplicada: se califica la primera; la copia "
                             "se conserva como celda normal")
            else:
                dropped.add(j)
                notes.append(f"celda {_kind(rcells[i])} «{gid}» duplicada: se quita la copia")
            continue
        match[j], how[j] = i, "grade_id"
        taken.add(i)
    # 2. by cell id, 3. by identical source (metadata stripped)
    for rule in ("id", "source"):
        for j, c in enumerate(scells):
            if j in match or j in dropped:
                continue
            for i, r in enumerate(rcells):
                if i in taken:
                    continue
                if (rule == "id" and c.get("id") and c.get("id") == r.get("id")
                        and (c.cell_type == r.cell_type or _meta(r).get("grade_id"))) or \
                        (rule == "source" and _norm(c.source) and _norm(c.source) == _norm(r.source)):
                    match[j], how[j] = i, rule
                    taken.add(i)
                    break
            else:
                # a copy of a locked release cell (e.g. a duplicated test cell without metadata)
                if rule == "source" and any(_norm(c.source) == _norm(rcells[i].source) and
                                            _meta(rcells[i]).get("locked") for i in graded):
                    i = next(i for i in graded if _norm(c.source) == _norm(rcells[i].source))
                    dropped.add(j)
                    notes.append(f"celda {_kind(rcells[i])} «{_label(rcells[i])}» duplicada: se quita la copia")

    if not any(i in graded for i in match.values()):
        guess = [other for other, ids in (other_labs or {}).items() if foreign & ids]
        where = f" (parece un cuaderno de {guess[0]})" if guess else ""
        raise NotThisLab(f"no es una entrega de {lab}{where}: no tiene ninguna celda calificable de su enunciado")

    # 4. graded cells still missing: the most resembling unmatched cell between the neighbours found
    position = {i: j for j, i in match.items()}
    for i in graded:
        if i in taken:
            continue
        before = [position[k] for k in position if k < i]
        after = [position[k] for k in position if k > i]
        lo, hi = (max(before) if before else -1), (min(after) if after else len(scells))
        if lo > hi:  # neighbours out of order: search everywhere
            lo, hi = -1, len(scells)
        pool = [j for j in range(lo + 1, hi) if j not in match and j not in dropped and scells[j].cell_type in
                ("code", "markdown") and not _meta(scells[j])]
        scored = sorted(((-_resemblance(rcells[i], scells[j]), j) for j in pool))
        same_type = [j for j in pool if scells[j].cell_type == rcells[i].cell_type]
        if scored and -scored[0][0] >= 0.5:
            j = scored[0][1]
        elif _meta(rcells[i]).get("solution") and len(same_type) == 1 and not _anchor_lines(rcells[i].source):
            j = same_type[0]
        else:
            continue
        match[j], how[j] = i, "similar"
        taken.add(i)
        position[i] = j

    # 5. build the output cells, in the release's order
    out_for: dict[int, list] = {}
    recovered: list[str] = []
    for j, i in sorted(match.items(), key=lambda item: item[1]):
        r, s = rcells[i], scells[j]
        gid = _meta(r).get("grade_id")
        cells = []
        if gid and how[j] != "grade_id":
            recovered.append(f"«{gid}»")
        if gid and _meta(r).get("locked") and not _meta(r).get("solution"):
            cell = copy.deepcopy(r)
            if s.cell_type != r.cell_type:
                notes.append(f"celda {_kind(r)} «{gid}» convertida en {s.cell_type}: restaurada desde el enunciado")
            elif _norm(s.source) != _norm(r.source):
                if not _norm(s.source):
                    notes.append(f"celda {_kind(r)} «{gid}» vaciada: restaurada desde el enunciado")
                else:
                    notes.append(f"celda {_kind(r)} «{gid}» modificada: restaurada desde el enunciado "
                                 "(su texto se conserva en una celda sin ejecutar a continuación)")
                    cells.append(nbformat.v4.new_raw_cell(s.source))
            cells.insert(0, cell)
        elif gid:
            cell = copy.deepcopy(s)
            cell.metadata["nbgrader"] = copy.deepcopy(r.metadata["nbgrader"])
            if s.cell_type != r.cell_type:
                notes.append(f"celda {_kind(r)} «{gid}» convertida en {s.cell_type}: vuelve a ser "
                             f"{r.cell_type} con su contenido")
                cell = (nbformat.v4.new_code_cell if r.cell_type == "code" else nbformat.v4.new_markdown_cell)(
                    s.source, metadata=cell.metadata)
            cells = [cell]
        else:
            cells = [copy.deepcopy(s)]
        out_for[i] = cells
    if recovered:
        notes.append(f"{len(recovered)} celdas sin metadatos de nbgrader, reconocidas por su identificador o su "
                     f"contenido y recuperadas: {', '.join(recovered)}")
    for i in graded:
        if i not in taken:
            out_for[i] = [copy.deepcopy(rcells[i])]
            notes.append(f"celda {_kind(rcells[i])} «{_label(rcells[i])}» borrada: restaurada desde el enunciado")

    order = [match[j] for j in sorted(match)]
    moved = _moved(order)
    if moved:
        names = ", ".join(f"«{_label(rcells[i])}»" for i in sorted(moved))
        notes.append(f"celdas fuera del orden del enunciado: {names} vuelven a su sitio")

    # the student's own cells follow the matched cell they followed
    extra_after: dict[int, list] = {}
    last = -1
    for j, c in enumerate(scells):
        if j in match:
            last = match[j]
        elif j not in dropped:
            extra_after.setdefault(last, []).append(copy.deepcopy(c))
    cells = list(extra_after.get(-1, []))
    for i in range(len(rcells)):
        cells += out_for.get(i, [])
        cells += extra_after.get(i, [])
    if foreign:
        notes.append(f"metadatos de nbgrader ajenos al enunciado quitados: {', '.join(sorted(foreign))}")

    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(student.metadata))
    for key in ("kernelspec", "language_info"):
        if key in release.metadata:
            nb.metadata[key] = copy.deepcopy(release.metadata[key])
    nb.nbformat, nb.nbformat_minor = release.nbformat, release.nbformat_minor
    seen = set()
    for n, cell in enumerate(cells):
        cid = cell.get("id")
        if not cid or cid in seen or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid):
            cid = f"alumno-{n}"
            while cid in seen:
                cid += "-b"
            cell["id"] = cid
        seen.add(cid)
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    nb.cells = cells
    return Repaired(nb, notes)
