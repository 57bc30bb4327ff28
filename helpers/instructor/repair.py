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


@dataclass
class _Matching:
    """What the passes of :func:`repair` share: which student cell stands for which release cell, and the notes."""

    release: list
    student: list
    match: dict[int, int] = field(default_factory=dict)  # student index -> release index
    taken: set[int] = field(default_factory=set)  # release indices matched
    recovered: set[int] = field(default_factory=set)  # release indices matched other than by grade_id
    dropped: set[int] = field(default_factory=set)  # student indices left out (copies of locked cells)
    foreign: set[str] = field(default_factory=set)  # grade_ids the release does not have
    notes: list[str] = field(default_factory=list)
    graded: list[int] = field(init=False)  # release indices of the cells with a grade_id

    def __post_init__(self):
        self.graded = [i for i, c in enumerate(self.release) if _meta(c).get("grade_id")]

    def pair(self, j: int, i: int, recovered: bool = True) -> None:
        """Match student cell ``j`` with release cell ``i``; ``recovered`` unless found by its grade_id."""
        self.match[j] = i
        self.taken.add(i)
        if recovered:
            self.recovered.add(i)


def repair(student, release, lab: str, other_labs: dict[str, set[str]] | None = None) -> Repaired:
    """Return ``student`` reconciled with ``release`` (both nbformat v4 notebooks) and the notes.

    Raise :class:`NotThisLab` (Spanish message) if no graded cell of the release can be found in it;
    ``other_labs`` maps other labs to their ``grade_id``s, to say whose notebook it looks like.
    """
    m = _Matching(release.cells, list(student.cells))
    _match_by_grade_id(m)
    _match_by(m, _same_id)
    _drop_copies_of_locked_cells(m, _match_by(m, _same_source))
    _refuse_another_lab(m, lab, other_labs)
    _match_by_resemblance(m)
    placed = _matched_cells(m)
    _note_recovered(m)
    _restore_deleted(m, placed)
    _note_moved(m)
    cells = _with_students_own_cells(m, placed)
    _note_foreign(m)
    return Repaired(_notebook(cells, student, release), m.notes)


def _match_by_grade_id(m: _Matching) -> None:
    """Match student cells by their ``grade_id``; one the release lacks loses its metadata (noted at the end)."""
    by_grade_id = {_meta(m.release[i])["grade_id"]: i for i in m.graded}
    for j, c in enumerate(m.student):
        gid = _meta(c).get("grade_id")
        if not gid:
            continue
        if gid not in by_grade_id:
            m.foreign.add(gid)
            c.metadata.pop("nbgrader", None)
        elif by_grade_id[gid] in m.taken:
            _ungrade_duplicate(m, j, by_grade_id[gid])
        else:
            m.pair(j, by_grade_id[gid], recovered=False)


def _ungrade_duplicate(m: _Matching, j: int, i: int) -> None:
    """Ungrade student cell ``j``, a second copy of release cell ``i``: a copied answer stays, a locked cell goes."""
    m.student[j].metadata.pop("nbgrader", None)
    r = m.release[i]
    if _meta(r).get("solution"):
        m.notes.append(f"celda {_kind(r)} «{_label(r)}» duplicada: se califica la primera; la copia "
                       "se conserva como celda normal")
    else:
        m.dropped.add(j)
        m.notes.append(f"celda {_kind(r)} «{_label(r)}» duplicada: se quita la copia")


def _same_id(scell, rcell) -> bool:
    """Whether ``scell`` has ``rcell``'s cell id (and its type, unless ``rcell`` is graded)."""
    return bool(scell.get("id")) and scell.get("id") == rcell.get("id") and (
        scell.cell_type == rcell.cell_type or bool(_meta(rcell).get("grade_id")))


def _same_source(scell, rcell) -> bool:
    """Whether ``scell`` has ``rcell``'s text (not empty), but for trailing spaces and blank lines."""
    return bool(_norm(scell.source)) and _norm(scell.source) == _norm(rcell.source)


def _match_by(m: _Matching, same) -> list[int]:
    """Match each free student cell with the first free release cell ``same`` says it is; return the cells left."""
    left = []
    for j, c in enumerate(m.student):
        if j in m.match or j in m.dropped:
            continue
        i = next((i for i, r in enumerate(m.release) if i not in m.taken and same(c, r)), None)
        if i is None:
            left.append(j)
        else:
            m.pair(j, i)
    return left


def _drop_copies_of_locked_cells(m: _Matching, left: list[int]) -> None:
    """Drop the student cells of ``left`` whose text is a locked graded cell's (e.g. a test copied without metadata)."""
    for j in left:
        same = [i for i in m.graded if _norm(m.student[j].source) == _norm(m.release[i].source)]
        if any(_meta(m.release[i]).get("locked") for i in same):
            m.dropped.add(j)
            m.notes.append(f"celda {_kind(m.release[same[0]])} «{_label(m.release[same[0]])}» duplicada: "
                           "se quita la copia")


def _refuse_another_lab(m: _Matching, lab: str, other_labs: dict[str, set[str]] | None) -> None:
    """Raise :class:`NotThisLab` if no graded cell of the release was matched, naming the lab it looks like."""
    if any(i in m.graded for i in m.match.values()):
        return
    guess = [other for other, ids in (other_labs or {}).items() if m.foreign & ids]
    where = f" (parece un cuaderno de {guess[0]})" if guess else ""
    raise NotThisLab(f"no es una entrega de {lab}{where}: no tiene ninguna celda calificable de su enunciado")


def _match_by_resemblance(m: _Matching) -> None:
    """Match each graded release cell still missing with the most resembling free cell between its neighbours."""
    for i in m.graded:
        if i in m.taken:
            continue
        j = _most_resembling(m, i, _free_between_neighbours(m, i))
        if j is not None:
            m.pair(j, i)


def _free_between_neighbours(m: _Matching, i: int) -> list[int]:
    """Free student code and markdown cells without nbgrader metadata between the cells matched to release cells
    before and after ``i`` (anywhere if those are out of order)."""
    before = [j for j, k in m.match.items() if k < i]
    after = [j for j, k in m.match.items() if k > i]
    lo, hi = (max(before) if before else -1), (min(after) if after else len(m.student))
    if lo > hi:
        lo, hi = -1, len(m.student)
    return [j for j in range(lo + 1, hi) if j not in m.match and j not in m.dropped and m.student[j].cell_type in
            ("code", "markdown") and not _meta(m.student[j])]


def _most_resembling(m: _Matching, i: int, pool: list[int]) -> int | None:
    """The cell of ``pool`` with at least half of release cell ``i``'s own lines (the most, the first on a tie); for
    an answer that is all stub, the one cell of its type in ``pool``; else None."""
    r = m.release[i]
    scored = sorted((-_resemblance(r, m.student[j]), j) for j in pool)
    same_type = [j for j in pool if m.student[j].cell_type == r.cell_type]
    if scored and -scored[0][0] >= 0.5:
        return scored[0][1]
    if _meta(r).get("solution") and len(same_type) == 1 and not _anchor_lines(r.source):
        return same_type[0]
    return None


def _matched_cells(m: _Matching) -> dict[int, list]:
    """Release index -> the output cells of each matched pair, noting every repair in the release's order."""
    placed = {}
    for j, i in sorted(m.match.items(), key=lambda item: item[1]):
        r, s = m.release[i], m.student[j]
        if not _meta(r).get("grade_id"):
            placed[i] = [copy.deepcopy(s)]
        elif _meta(r).get("locked") and not _meta(r).get("solution"):
            placed[i] = _restored_locked(m, r, s)
        else:
            placed[i] = [_graded_answer(m, r, s)]
    return placed


def _note_recovered(m: _Matching) -> None:
    """Note the graded cells found without their nbgrader metadata (by cell id, text or resemblance)."""
    names = [f"«{_label(m.release[i])}»" for i in sorted(m.recovered) if i in m.graded]
    if names:
        m.notes.append(f"{len(names)} celdas sin metadatos de nbgrader, reconocidas por su identificador o su "
                       f"contenido y recuperadas: {', '.join(names)}")


def _restored_locked(m: _Matching, r, s) -> list:
    """Locked release cell ``r`` as released, noting how student cell ``s`` differs; edited text follows, raw."""
    cells = [copy.deepcopy(r)]
    if s.cell_type != r.cell_type:
        m.notes.append(f"celda {_kind(r)} «{_label(r)}» convertida en {s.cell_type}: restaurada desde el enunciado")
    elif _norm(s.source) != _norm(r.source):
        if not _norm(s.source):
            m.notes.append(f"celda {_kind(r)} «{_label(r)}» vaciada: restaurada desde el enunciado")
        else:
            m.notes.append(f"celda {_kind(r)} «{_label(r)}» modificada: restaurada desde el enunciado "
                           "(su texto se conserva en una celda sin ejecutar a continuación)")
            cells.append(nbformat.v4.new_raw_cell(s.source))
    return cells


def _graded_answer(m: _Matching, r, s):
    """Student cell ``s`` with release cell ``r``'s nbgrader metadata and cell type (a change of type noted)."""
    cell = copy.deepcopy(s)
    cell.metadata["nbgrader"] = copy.deepcopy(r.metadata["nbgrader"])
    if s.cell_type == r.cell_type:
        return cell
    m.notes.append(f"celda {_kind(r)} «{_label(r)}» convertida en {s.cell_type}: vuelve a ser "
                   f"{r.cell_type} con su contenido")
    new = nbformat.v4.new_code_cell if r.cell_type == "code" else nbformat.v4.new_markdown_cell
    return new(s.source, metadata=cell.metadata)


def _restore_deleted(m: _Matching, placed: dict[int, list]) -> None:
    """Place each graded release cell still missing as released, noting it."""
    for i in m.graded:
        if i not in m.taken:
            placed[i] = [copy.deepcopy(m.release[i])]
            m.notes.append(f"celda {_kind(m.release[i])} «{_label(m.release[i])}» borrada: restaurada desde el "
                           "enunciado")


def _note_moved(m: _Matching) -> None:
    """Note the matched cells that are out of the release's order (they go back to their place)."""
    moved = _moved([m.match[j] for j in sorted(m.match)])
    if moved:
        names = ", ".join(f"«{_label(m.release[i])}»" for i in sorted(moved))
        m.notes.append(f"celdas fuera del orden del enunciado: {names} vuelven a su sitio")


def _with_students_own_cells(m: _Matching, placed: dict[int, list]) -> list:
    """The ``placed`` cells in the release's order; each of the student's own cells after the matched one before it."""
    own_after: dict[int, list] = {}
    last = -1
    for j, c in enumerate(m.student):
        if j in m.match:
            last = m.match[j]
        elif j not in m.dropped:
            own_after.setdefault(last, []).append(copy.deepcopy(c))
    cells = list(own_after.get(-1, []))
    for i in range(len(m.release)):
        cells += placed.get(i, []) + own_after.get(i, [])
    return cells


def _note_foreign(m: _Matching) -> None:
    """Note the grade_ids the release does not have, whose metadata :func:`_match_by_grade_id` removed."""
    if m.foreign:
        m.notes.append(f"metadatos de nbgrader ajenos al enunciado quitados: {', '.join(sorted(m.foreign))}")


def _notebook(cells: list, student, release):
    """A notebook of ``cells`` with the student's metadata but the release's kernel and format."""
    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(student.metadata))
    for key in ("kernelspec", "language_info"):
        if key in release.metadata:
            nb.metadata[key] = copy.deepcopy(release.metadata[key])
    nb.nbformat, nb.nbformat_minor = release.nbformat, release.nbformat_minor
    _make_cells_valid(cells)
    nb.cells = cells
    return nb


def _make_cells_valid(cells: list) -> None:
    """Give each cell a valid id not used before it (``alumno-<n>`` if needed) and each code cell its outputs."""
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
