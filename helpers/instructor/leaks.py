"""Find the answer key in files meant for students: solution, hidden-test and rubric lines of ``source/``.

A line is secret when nbgrader removes it from the release: inside ``### BEGIN/END SOLUTION`` (or a
whole solution cell without markers), inside ``### BEGIN/END HIDDEN TESTS``, or in a written-answer
cell (model answer and rubric). A secret line leaks when it appears in any line of a student file (as
a comment, inside a longer line...), spacing aside; lines too short to tell anything apart and lines
that ``source/`` also shows students, whole or inside a longer line (a visible test that repeats a
solution line, say), are not secret.
"""
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from ..course import existing_labs, lab_notebook
from .nbgrader_io import read_notebook
from .vocabulary import BadInput

#: Shorter lines (``return x``, ``else:``, ``model.eval()``) say nothing about the answer.
MIN_CHARS = 20

_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)(.*?)### END \1", re.S)


@dataclass(frozen=True)
class Leak:
    """A secret line found in a student file: where (file and line) and which text."""

    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


class LeakError(BadInput):
    """Files meant for students hold lines of the answer key; the message names each file and line."""

    def __init__(self, leaks: list[Leak]):
        self.leaks = leaks
        shown = "\n".join(f"  {leak}" for leak in leaks[:20])
        more = f"\n  ... y {len(leaks) - 20} más" if len(leaks) > 20 else ""
        super().__init__(f"No se publica nada: {len(leaks)} líneas de soluciones, pruebas ocultas o rúbricas "
                         f"de source/ aparecen en los archivos del alumnado:\n{shown}{more}")


def normalise(line: str) -> str:
    """``line`` without leading, trailing or repeated whitespace: how lines are compared."""
    return " ".join(line.split())


def _split(cell) -> tuple[str, str]:
    """``(secret, shown)``: the text of ``cell`` that the release hides and the text it keeps."""
    if cell.metadata.get("nbgrader", {}).get("solution") and (cell.cell_type == "markdown"
                                                             or "### BEGIN SOLUTION" not in cell.source):
        return cell.source, ""
    return "\n".join(m.group(2) for m in _REGION.finditer(cell.source)), _REGION.sub("", cell.source)


def secret_lines(root) -> set[str]:
    """The normalised secret lines of every source notebook under ``root`` that could identify the key."""
    secret, shown = set(), []
    for lab in existing_labs(root):
        for cell in read_notebook(lab_notebook("source", lab, root)).cells:
            hidden, kept = _split(cell)
            secret.update(map(normalise, hidden.splitlines()))
            shown += map(normalise, kept.splitlines())
    shown_text = "\n".join(shown)
    return {line for line in secret if len(line) >= MIN_CHARS and line not in shown_text}


def _lines(name: str, data: bytes):
    """``(where, line)`` for every line of a text file; a notebook's cells and outputs one by one."""
    try:
        text = data.decode()
    except UnicodeDecodeError:  # images and other binary files hold no source lines
        return
    if not name.endswith(".ipynb"):
        for number, line in enumerate(text.splitlines(), 1):
            yield f"{name}, línea {number}", line
        return
    for index, cell in enumerate(json.loads(text).get("cells", []), 1):
        texts = [cell.get("source", "")] + [output.get("text", "") for output in cell.get("outputs", [])]
        for part in texts:
            part = "".join(part) if isinstance(part, list) else part
            for number, line in enumerate(part.splitlines(), 1):
                yield f"{name}, celda {index}, línea {number}", line


def _finder(secret: set[str]):
    """A function of a normalised line that returns the first secret line inside it, or ``None``.

    Secrets are indexed by their first :data:`MIN_CHARS` characters, so a line costs one dictionary
    look-up per character, however many secrets there are.
    """
    by_start = defaultdict(list)
    for line in secret:
        by_start[line[:MIN_CHARS]].append(line)

    def find(line: str) -> str | None:
        for start in range(len(line) - MIN_CHARS + 1):
            for candidate in by_start.get(line[start:start + MIN_CHARS], ()):
                if line.startswith(candidate, start):
                    return candidate
        return None

    return find


def find_leaks(files: dict[str, bytes], root) -> list[Leak]:
    """Every secret line of ``root``'s ``source/`` found in ``files`` (relative name -> content)."""
    find = _finder(secret_lines(root))
    found = ((where, find(normalise(line)))
             for name, data in sorted(files.items()) for where, line in _lines(name, data))
    return [Leak(where, secret) for where, secret in found if secret]
