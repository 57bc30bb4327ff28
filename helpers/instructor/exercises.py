"""A lab's exercises as a student reads them: their titles, the names each answer defines, and a
failed test explained in those terms.

A test that fails because an answer is missing should say so («completa primero el Ejercicio 2.1»),
not show ``NameError: name 'model_mlp' is not defined`` or a bare ``NotImplementedError:`` with a
traceback through code the student never wrote. :func:`explain` turns a test cell's error into that
sentence, from the error's name, message and traceback and from which answer cell defines each name.
"""
import ast
import re

#: How a traceback names the function a frame ran: ``Cell In[3], line 2, in max_pool2d_manual(x, ...)``.
_FRAME = re.compile(r"(?:Cell In\[\d*\]|File [^,]+), line \d+, in (\w+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
#: The errors whose message is a test's Spanish verdict: ``assert``, and helpers.checks' own classes.
CHECK_FAILURES = ("AssertionError", "CheckFailed", "ForbiddenCall")
#: Errors the grader itself puts in a cell (tampering, a cell over its time, a disabled cell): shown as they are.
GRADER_ERRORS = ("ManipulacionDetectada", "CellTimeoutError")
DISABLED = "Celda desactivada por el corrector"


def _titled(nb):
    """Each cell with the title the student reads above it: "Ejercicio 1.1", or the section's heading."""
    current = "Comienzo del cuaderno"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                found = re.search(r"Ejercicio\s+\d+(?:\.\d+)*", line)
                if found or line.startswith("#"):
                    current = found.group(0) if found else line.lstrip("# ").strip()
        yield cell, current


def titles(nb) -> dict[str, str]:
    """``grade_id`` of every graded cell -> its title. Tests under the same exercise are told apart as
    "Ejercicio 5.1 (prueba 2)"."""
    found = {}
    for cell, title in _titled(nb):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") and meta.get("grade"):
            found[meta["grade_id"]] = title
    counts = {}
    for gid, title in found.items():
        counts.setdefault(title, []).append(gid)
    return {gid: f"{title} (prueba {same.index(gid) + 1})" if len(same) > 1 else title
            for title, same in counts.items() for gid in same}


def answer_titles(nb) -> dict[str, str]:
    """``grade_id`` of every answer code cell (written by the student) -> the title of its exercise."""
    return {cell.metadata["nbgrader"]["grade_id"]: title for cell, title in _titled(nb)
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
            and cell.metadata["nbgrader"].get("grade_id")}


def defined_by(nb) -> dict[str, str]:
    """Every name an answer cell (code written by the student) defines at its top level -> the
    title of its exercise. A cell that does not parse defines nothing."""
    names = {}
    for cell, title in _titled(nb):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            targets = [node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else \
                node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            for target in targets:
                for name in ([target.name] if hasattr(target, "name") else
                             [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]):
                    names.setdefault(name, title)
    return names


def explain(error: dict, defined: dict[str, str], own: str) -> str:
    """The Spanish sentence a student reads for an error raised in the test of exercise ``own``:
    ``error`` is the cell's error output (``ename``, ``evalue``, ``traceback``), ``defined`` is
    :func:`defined_by` of the notebook."""
    ename, evalue = error.get("ename", "Error"), str(error.get("evalue", "")).strip()
    if ename in GRADER_ERRORS or evalue.startswith(DISABLED):  # the grader's own words
        return f"{ename}: {evalue}"
    own = own.split(" (prueba ")[0]
    frames = [f.group(1) for line in error.get("traceback", []) for f in _FRAME.finditer(_ANSI.sub("", line))]
    answer = next((name for name in reversed(frames) if name in defined), None)
    where = defined.get(answer) if answer else None
    first = "" if where is None or where == own else f"Completa primero el {where}: "
    if ename == "NotImplementedError" and answer:
        return (f"{first}`{answer}` ({where}) todavía no está hecha: lanza NotImplementedError. Escribe tu "
                "respuesta en su celda y ejecútala antes de esta prueba.")
    undefined = _UNDEFINED.search(evalue) if ename in ("NameError", "UnboundLocalError") else None
    if undefined:
        name = undefined.group(1)
        if name in defined and defined[name] != own:
            return (f"Completa primero el {defined[name]}: esta prueba usa `{name}`, que se define allí. "
                    "Ejecuta esa celda antes de esta prueba.")
        if name in defined:
            return (f"Esta prueba usa `{name}`, que tu respuesta de este ejercicio debe definir: "
                    "complétala y ejecuta su celda antes de la prueba.")
        return (f"Esta prueba usa `{name}`, que no está definido: ejecuta el cuaderno en orden, desde "
                "la primera celda.")
    if ename in CHECK_FAILURES:  # a check's own Spanish message, or a verdict of the grader
        return evalue
    shown = f"{ename}: {evalue}" if evalue else ename
    inside = f" (en `{answer}`, {where})" if answer else ""
    return f"{first}al ejecutar la prueba, tu código lanzó {shown}{inside}."
