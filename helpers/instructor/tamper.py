"""Detect student code that tampers with the test machinery inside its own kernel.

The sandbox keeps student code away from the key, the grader and classmates, but inside one kernel
student cells run before the tests and could patch ``helpers.checks``, IPython's input or AST
transformers, exception handlers, ``sys.modules``, the output streams... Three defences, as nbgrader
preprocessors around execution (both run in nbgrader's trusted process):

- :class:`PlantTripwires` puts a grader cell before every test cell and one at the end. Each
  inspects the kernel for known hooks and then MUST fail, with a message drawn afresh for every run
  and known only to the grader. (The verdict of the tests themselves is not decided in the kernel at
  all: see :mod:`helpers.instructor.judge`; the tripwires are a second line that names tampering.)
- :class:`CheckTripwires`, after execution, reads each tripwire's output. From the first one that did
  not fail as expected (or found a hook) on, the test cell just before it and every later test get a
  Spanish error (so they earn no points). Tripwires are then removed, so the graded notebook looks
  as the student wrote it, and the verdict goes in its metadata (:data:`FINDINGS`).
- :func:`suspicious_lines` lists lines of student code that touch these places, for the report.
"""
import re
import secrets
from dataclasses import asdict, dataclass, field

from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .judge import is_test
from .sandbox import LIBRARY

MARK = "course_tripwire"
#: Where, in the graded notebook's metadata, the grading steps leave what they found: the cells
#: :class:`~helpers.instructor.execute.RobustExecute` disabled (:data:`INCIDENTS`) and the tripwires' verdict
#: (:data:`VERDICT`). :class:`PlantTripwires`, the first of them, empties it.
FINDINGS = "hallazgos_del_corrector"
INCIDENTS = "celdas_desactivadas"
VERDICT = "manipulacion"
ERROR_NAME = "ManipulacionDetectada"

#: What the tripwire inspects in the kernel; each finding is named in Spanish.
INSPECTION = '''\
    import builtins, site, sys
    from helpers import checks
    ip = get_ipython()
    found = []
    base = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "comm", "traitlets", "debugpy")
    roots = tuple(p.rstrip("/") + "/" for p in [*site.getsitepackages(), site.getusersitepackages()])
    def ours(f):
        # Where its code was compiled from, not its __module__ (which anyone can set)
        f = getattr(f, "__func__", f)
        code = getattr(f, "__code__", None)
        if code is not None:
            return code.co_filename.startswith(roots)
        named = (getattr(f, "__module__", None) or "").split(".")[0] in base
        if isinstance(f, type):
            own = [getattr(v, "__func__", v) for v in vars(f).values()]
            return named and all(ours(v) for v in own if getattr(v, "__code__", None) is not None)
        return named
    if ip.input_transformers_post or ip.ast_transformers:
        found.append("transformadores de entrada de IPython añadidos")
    cleanup = [getattr(f, "__name__", type(f).__name__) for f in ip.input_transformers_cleanup]
    if cleanup != ["leading_empty_lines", "leading_indent", "PromptStripper", "PromptStripper"]:
        found.append("limpieza de la entrada de IPython alterada")
    if ip.custom_exceptions:
        found.append("manejador de excepciones de IPython")
    if sys.gettrace() is not None or sys.getprofile() is not None:
        found.append("traza o perfil de Python activos")
    if type(builtins.__import__).__name__ != "builtin_function_or_method":
        found.append("__import__ sustituido")
    for name in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "showtraceback",
                 "_showtraceback", "displayhook", "display_pub"):
        value = vars(ip).get(name, getattr(type(ip), name, None))
        value = getattr(value, "__func__", value)
        if not (ours(value) or ours(type(value))):
            found.append(f"IPython.{name} sustituido")
    if any(name in vars(ip.kernel) for name in ("do_execute", "execute_request", "send_response")) or \\
            not ours(type(ip.kernel).do_execute):
        found.append("núcleo de Jupyter sustituido")
    for stream in (sys.stdout, sys.stderr, sys.displayhook):
        if not ours(type(stream)):
            found.append("salida estándar sustituida")
    for event, callbacks in ip.events.callbacks.items():
        if not all(ours(f) for f in callbacks):
            found.append(f"función registrada en el evento {event}")
    # the module the student imported, and the fresh one the last test loaded (sys.modules)
    for module in {id(m): m for m in (checks, sys.modules.get("helpers.checks", checks))}.values():
        checks_file = getattr(module, "__file__", "")
        if checks_file != CHECKS_FILE:
            found.append("helpers.checks sustituido")
        for name in ("check_shape", "check_close", "check_equal", "check_parameter_count", "check_true",
                     "start_recording", "_site", "_record", "_plain", "_shape", "_truth", "_count"):
            code = getattr(getattr(module, name, None), "__code__", None)
            if code is None or code.co_filename != checks_file:
                found.append(f"checks.{name} sustituida")
'''

#: How each tripwire fails, in turn: as a failed test would, with numbers drawn for this run (an
#: ``assert`` statement raises the real ``AssertionError`` even if the student replaced the builtin).
FAILURES = (
    ("{a} == {b}", "{what}: se esperaba {b}, se obtuvo {a}."),
    ("{a} > {b}", "{what}: los valores no coinciden (error relativo máximo {a}e-01, tolerancia 1e-04)."),
    ("({a}, 3) == ({b}, 3)", "{what}: se esperaba la forma ({b}, 3), se obtuvo ({a}, 3)."),
    ("{a} == {b}", "{what}."),
    ("{a} == {b}", "{what}: se esperaban {b:,} parámetros, tiene {a:,} (diferencia {d:+,})."),
)
#: What a tripwire's message says it checked: worded as the labs' own tests are, drawn at random.
LABELS = ("El resultado sobre otra entrada", "La salida de la red con otro lote", "Tu función con una entrada nueva",
          "El tamaño de la salida", "El número de parámetros de otra red", "Las pérdidas por lote",
          "La exactitud sobre otros datos", "La salida de la capa con otros pesos")
#: How a tripwire's function is named (with a fresh suffix): as a helper of a test could be.
NAMES = ("_comprobar", "_probar", "_verificar", "_revisar", "_calcular", "_esperado")


@dataclass
class Verdict:
    """What the tripwires saw in one notebook."""

    tampered: bool = False
    where: str = ""  # the tripwire that first went off, in words
    findings: list[str] = field(default_factory=list)
    zeroed: list[str] = field(default_factory=list)  # grade_ids of the tests that got no points


def tripwire_cell(kind: int, nonce: str, a: int, b: int, checks_file: str):
    """A grader cell that inspects the kernel and must then fail with one exact message, which only the
    grader knows (in the cell's metadata, never in the kernel): the message a clean kernel gives."""
    condition, message = FAILURES[kind % len(FAILURES)]
    label, name = LABELS[int(nonce, 16) % len(LABELS)], f"{NAMES[int(nonce, 16) % len(NAMES)]}_{nonce}"
    inspection = INSPECTION.replace("CHECKS_FILE", repr(checks_file))
    source = (f"def {name}():\n    import torch\n{inspection}"
              f"    what = {label!r} + (' (' + '; '.join(found) + ')' if found else '')\n"
              f"    assert {condition.format(a=a, b=b)}, f{message.format(a=a, b=b, d=a - b, what='{what}')!r}\n"
              f"try:\n    {name}()\nfinally:\n    del {name}\n")
    return new_code_cell(source, metadata={MARK: {"nonce": nonce, "label": label,
                                                  "expected": message.format(a=a, b=b, d=a - b, what=label)}})


class PlantTripwires(NbGraderPreprocessor):
    """Insert a tripwire before every test cell and at the end."""

    library = Unicode(LIBRARY, help="Folder holding the helpers package, as the kernel sees it.").tag(config=True)

    def preprocess(self, nb, resources):
        checks_file = f"{self.library}/helpers/checks.py"
        nb.metadata[FINDINGS] = {}  # whatever the student's file held under that name is not ours
        cells = []
        for cell in nb.cells:
            if is_test(cell):
                cells.append(self._tripwire(len(cells), checks_file))
            cells.append(cell)
        cells.append(self._tripwire(len(cells), checks_file))
        nb.cells = cells
        return nb, resources

    @staticmethod
    def _tripwire(kind: int, checks_file: str):
        a, b = secrets.randbelow(10**6) + 10, secrets.randbelow(10**6) + 10**6 + 20
        return tripwire_cell(kind, secrets.token_hex(6), a, b, checks_file)


def tripwire_ok(cell) -> tuple[bool, str]:
    """Whether a tripwire cell failed exactly as planted; if not, what went wrong (Spanish)."""
    planted = cell.metadata[MARK]
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return False, "una comprobación que debía fallar no falló (pruebas desactivadas o excepciones silenciadas)"
    message = errors[-1].get("evalue", "")
    if errors[-1].get("ename") == "AssertionError" and message == planted["expected"]:
        return True, ""
    found = re.match(rf"{re.escape(planted['label'])} \((.*?)\)", message)
    if errors[-1].get("ename") == "AssertionError" and found:
        return False, found.group(1)
    return False, f"una comprobación falló de forma inesperada ({errors[-1].get('ename')})"


class CheckTripwires(NbGraderPreprocessor):
    """Read the tripwires, take the points of every test they cannot vouch for, and remove them."""

    def preprocess(self, nb, resources):
        verdict = Verdict()
        last_test = None
        for cell in nb.cells:
            if MARK in cell.metadata and not verdict.tampered:
                ok, why = tripwire_ok(cell)
                if not ok:
                    verdict.tampered, verdict.findings = True, [why]
                    verdict.where = (f"antes de la prueba siguiente a «{last_test.metadata['nbgrader']['grade_id']}»"
                                     if last_test is not None else "antes de la primera prueba")
                    if last_test is not None:
                        self._zero(last_test, verdict)
            elif is_test(cell):
                last_test = cell
                if verdict.tampered:
                    self._zero(cell, verdict)
        nb.cells = [c for c in nb.cells if MARK not in c.metadata]
        nb.metadata.setdefault(FINDINGS, {})[VERDICT] = asdict(verdict)
        return nb, resources

    @staticmethod
    def _zero(cell, verdict: Verdict) -> None:
        cell.outputs.append(new_output("error", ename=ERROR_NAME, traceback=[], evalue=(
            "el corrector detectó código que altera las pruebas; esta prueba no puntúa y el profesorado "
            "revisará la entrega")))
        verdict.zeroed.append(cell.metadata["nbgrader"]["grade_id"])


#: Student code that touches the test machinery or the system, worth an instructor's look.
SUSPICIOUS = re.compile(
    r"get_ipython|input_transformers|ast_transformers|set_custom_exc|sys\.modules|__builtins__|\bbuiltins\b|"
    r"settrace|setprofile|sys\.std(?:out|err)\s*=|displayhook|\bchecks\.\w+\s*=|events\.register|importlib|"
    r"\bctypes\b|\bgc\.|__code__|os\.kill|\bsignal\b|subprocess|os\.system|os\.fork|/proc|\bsocket\b|"
    r"(?<![.\w])(?:exec|eval|compile)\s*\(|nbgrader|gradebook|source/|solutions/|environ|__file__|os\.walk|"
    r"\bglob\b|sqlite3|open\(\s*['\"]/")


def suspicious_lines(nb) -> list[str]:
    """Lines of the student's own cells that touch the test machinery or the system (for the report)."""
    lines = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            continue
        label = meta.get("grade_id") or cell.get("id") or "sin nombre"
        for number, line in enumerate(cell.source.splitlines(), 1):
            if SUSPICIOUS.search(line):
                lines.append(f"celda «{label}», línea {number}: {line.strip()[:120]}")
    return lines
