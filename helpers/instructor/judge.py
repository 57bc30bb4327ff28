"""The verdict of every test, decided outside the student's kernel from plain recorded values.

A test cell runs in the student's kernel, which the student's code controls: it can patch functions,
hook the kernel, or hand a check an object that lies. So the kernel only *records*: two nbgrader
preprocessors around execution (both in nbgrader's trusted process) do the rest.

- :class:`PrepareTests`, before execution, rewrites each test cell: it starts with a fresh
  ``helpers.checks`` from the read-only library that records instead of comparing
  (:func:`helpers.checks.start_recording`, which also seeds the generators); every ``torch.randn``-like
  call of the test draws from a generator of the test's own, so a student's code that draws random
  numbers cannot change the test's inputs; each check call is numbered (its *site*); and where the
  answer key showed that a site's expected value does not depend on the student's state (a site
  judged ``clave``), the expected-value argument is removed: it is never computed in the student's
  kernel, so no hook or lying object can read it there.
- :class:`JudgeTests`, after execution, reads the recorded values from each test cell's outputs and
  decides with :func:`helpers.verdicts.judge` against the reference (``referencia.json``): a
  ``clave`` site against the value the answer key recorded, a ``propia`` site (one whose expected
  value comes from the student's own objects, e.g. a network they trained) against the expected
  value recorded next to it. A test passes only if every site passed and the cell raised nothing;
  its outputs are then replaced by the verdict alone (nothing, or one Spanish error), so that nbgrader
  scores exactly that: text on stderr, an ``execute_result`` or anything else the student's code
  showed inside a test cell earns and costs nothing. Test sources are restored as they were.

The reference is made once per lab version (see ``isolated.reference``): the answer key is graded
twice, the second time with every random generator reseeded differently after each of its cells and
inside each test cell. A site whose recorded values are the same both times depends only on the
test's own inputs (``clave``); any other site depends on state (``propia``), and so does a check
called with ``own_code=True`` (its expected value comes from the student's other answers on purpose,
e.g. a learning-rate sweep compared with the same sweep made with the student's own ``train_epoch``).
"""
import ast
import hashlib
import json
from pathlib import Path

from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .. import verdicts
from . import exercises
from .nbgrader_io import read_notebook
from ..checks import OWN_CODE, RECORD_MIME
from .sandbox import LIBRARY
from .vocabulary import BadInput

#: Test cells start with this line: a fresh ``helpers.checks`` loaded from the read-only library by
#: its path (neither a patched module nor a fake ``helpers`` earlier on ``sys.path`` is used), set to record.
PROLOGUE = ("import importlib.util as _dlc_u, sys as _dlc_s, torch as _dlc_t; "
            "_dlc_m = _dlc_u.spec_from_file_location('helpers.checks', {checks!r}); "
            "checks = _dlc_u.module_from_spec(_dlc_m); _dlc_m.loader.exec_module(checks); "
            "_dlc_s.modules['helpers.checks'] = checks; checks.start_recording({seed}); "
            "_dlc_g = _dlc_t.Generator().manual_seed({seed}); del _dlc_u, _dlc_s, _dlc_m, _dlc_t\n")
#: The test's own generator (see :data:`PROLOGUE`), passed to every random draw of the test.
GENERATOR = "_dlc_g"
RANDOM_DRAWS = {"randn", "rand", "randint", "randperm", "randn_like", "rand_like", "randint_like", "normal"}
#: Marks the cells :class:`PrepareTests` adds (removed by :class:`JudgeTests`).
MARK = "course_added"
#: The checks and where their expected value is (positional index, keyword); check_true has none.
EXPECTED_ARG = {"check_shape": 1, "check_close": 1, "check_equal": 1, "check_parameter_count": 1}
CHECKS = set(EXPECTED_ARG) | {"check_true"}

KEY_MODE, OWN_MODE = "clave", "propia"
REFERENCE_NAME = "referencia.json"
RECORDS_NAME = "sondas.json"
PERTURB_NAME = "perturbar"


def is_test(cell) -> bool:
    """Whether ``cell`` is an autograded test cell (graded, not written by the student)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def cell_seed(grade_id: str, salt: str = "") -> int:
    """The seed of a test cell's generators: the same in every kernel that runs it."""
    return int(hashlib.sha256(f"{grade_id}{salt}".encode()).hexdigest()[:12], 16)


class _Sites(ast.NodeTransformer):
    """Number the check calls, draw the test's random inputs from its own generator, and drop the
    expected-value argument of the sites named in ``hide``."""

    def __init__(self, hide: set[int]):
        self.hide, self.count = hide, 0

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id == "checks" and func.attr in CHECKS:
                site = self.count
                self.count += 1
                if site in self.hide and func.attr in EXPECTED_ARG:
                    index = EXPECTED_ARG[func.attr]
                    if len(node.args) > index:
                        node.args[index] = ast.Constant(None)
                    node.keywords = [k for k in node.keywords if k.arg != "expected"]
                # checks._site(N, checks.check_x)(...): the site is set before the arguments are evaluated
                node.func = ast.Call(ast.Attribute(ast.Name("checks", ast.Load()), "_site", ast.Load()),
                                     [ast.Constant(site), func], [])
            elif func.value.id == "torch" and func.attr in RANDOM_DRAWS \
                    and not any(k.arg == "generator" for k in node.keywords):
                node.keywords.append(ast.keyword("generator", ast.Name(GENERATOR, ast.Load())))
        return node


def instrument(source: str, hide: set[int] = frozenset()) -> tuple[str, int]:
    """``source`` of a test cell rewritten as :class:`_Sites` does; and how many check sites it has."""
    tree = ast.parse(source)
    sites = _Sites(set(hide))
    tree = ast.fix_missing_locations(sites.visit(tree))
    return ast.unparse(tree), sites.count


def read_reference(path) -> dict | None:
    """The reference a lab's tests are judged against, or None if there is none (yet)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class PrepareTests(NbGraderPreprocessor):
    """Rewrite every test cell to record (see the module's docstring); with the perturbation file
    present (answer key's second run), reseed every generator after each cell and inside each test."""

    library = Unicode(LIBRARY, help="Folder holding the helpers package, as the kernel sees it.").tag(config=True)
    reference_file = Unicode("", help="The lab's reference (which sites are judged against the key).").tag(config=True)
    perturb_file = Unicode("", help="If this file exists, perturb every random generator.").tag(config=True)

    def preprocess(self, nb, resources):
        reference = read_reference(self.reference_file) or {}
        perturb = bool(self.perturb_file) and Path(self.perturb_file).exists()
        checks_file = f"{self.library}/helpers/checks.py"
        originals, cells = {}, []
        for cell in nb.cells:
            if is_test(cell):
                gid = cell.metadata["nbgrader"]["grade_id"]
                sites = reference.get(gid, {}).get("sites", {})
                hide = {int(s) for s, site in sites.items() if site["mode"] == KEY_MODE}
                originals[gid] = cell.source
                try:
                    body, _ = instrument(cell.source, hide)
                except SyntaxError:
                    body = cell.source
                seed = cell_seed(gid)
                prologue = PROLOGUE.format(checks=checks_file, seed=seed)
                if perturb:  # the test's inputs stay; the global generators do not
                    prologue += f"import torch as _dlc_t; _dlc_t.manual_seed({cell_seed(gid, 'otra')}); del _dlc_t\n"
                cell.source = prologue + body
            cells.append(cell)
            if perturb and cell.cell_type == "code" and not is_test(cell):
                salt = cell_seed(str(len(cells)), "perturbar")
                cells.append(new_code_cell(
                    f"import random as _dlc_r, numpy as _dlc_n, torch as _dlc_t\n_dlc_t.manual_seed({salt}); "
                    f"_dlc_n.random.seed({salt % 2**32}); _dlc_r.seed({salt})\ndel _dlc_r, _dlc_n, _dlc_t",
                    metadata={MARK: True}))
        nb.cells = cells
        resources["course_test_sources"] = originals
        return nb, resources


def records_of(cell) -> list[dict]:
    """The checks a test cell recorded, in order (malformed ones are skipped: they cannot pass)."""
    records = []
    for out in cell.get("outputs", []):
        payload = out.get("data", {}).get(RECORD_MIME) if out.get("output_type") == "display_data" else None
        if isinstance(payload, str):
            try:
                record = json.loads(payload)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("site"), int):
                records.append(record)
    return records


def _errors(cell) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def _plain_error(error: dict) -> str:
    return f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip()


def _text(value, limit: int = 600) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[:limit] + "…"


def judge_cell(cell, reference: dict | None, describe=_plain_error) -> str | None:
    """``None`` if the test cell passed; else the Spanish message the student reads (an error the
    cell raised is put in words by ``describe``)."""
    errors = _errors(cell)
    if errors:
        return "\n".join(dict.fromkeys(describe(e) for e in errors))
    if reference is None:
        return "No hay referencia con la que comparar esta prueba: el corrector no pudo prepararla."
    recorded = {}
    for record in records_of(cell):
        recorded.setdefault(record["site"], []).append(record)
    for site, expected in sorted(reference["sites"].items(), key=lambda kv: int(kv[0])):
        got = recorded.get(int(site), [])
        if len(got) != len(expected["records"]):
            return (f"La prueba no llegó a hacer todas sus comprobaciones ({len(got)} de {len(expected['records'])} "
                    f"en la comprobación n.º {int(site) + 1}): revisa que tu código se ejecute sin errores.")
        for mine, key in zip(got, expected["records"]):
            message = judge_record(mine, key, expected["mode"])
            if message is not None:
                return message
    return None


def judge_record(mine: dict, key: dict, mode: str) -> str | None:
    """The verdict of one recorded check (``mine``) against the answer key's record of the same check."""
    options = {k: key[k] for k in ("rtol", "atol", "trainable_only") if k in key}
    what, hint = _text(mine.get("what")) or _text(key.get("what")), key.get("hint")
    if mine.get("kind") != key["kind"]:
        return f"{what}: la comprobación registrada no es la esperada."
    value = verdicts.decode(mine.get("value"))
    if key["kind"] == "true":
        return verdicts.judge("true", value, None, what, hint)
    if mode == KEY_MODE:
        wanted = verdicts.decode(key["expected"] if "expected" in key else key["value"])
    elif "expected" in mine:
        wanted = verdicts.decode(mine["expected"])
    else:
        return f"{what}: falta el valor de referencia de esta comprobación."
    if key["kind"] == "shape":
        if isinstance(value, verdicts.NotPlain):
            return verdicts.judge("shape", value, wanted, what, hint)
        value, wanted = verdicts.shape_of(value), verdicts.shape_of(wanted)
    return verdicts.judge(key["kind"], value, wanted, what, hint, **options)


class JudgeTests(NbGraderPreprocessor):
    """Decide every test from its recorded values; leave in each test cell only its verdict."""

    reference_file = Unicode("", help="The lab's reference (see build_reference).").tag(config=True)
    records_file = Unicode("", help="JSON file where every test cell's records are written.").tag(config=True)
    course_root = Unicode("", help="The course folder whose source/ holds the answer key.").tag(config=True)

    def _answer_key(self, resources):
        """The lab's source notebook (the key: its titles, and the names each answer defines), if there is one."""
        where = resources.get("nbgrader", {})
        path = Path(self.course_root) / "source" / str(where.get("assignment")) / f"{where.get('notebook')}.ipynb"
        try:
            return read_notebook(path) if self.course_root and path.is_file() else None
        except ValueError:
            return None

    def preprocess(self, nb, resources):
        reference = read_reference(self.reference_file)
        originals = resources.get("course_test_sources", {})
        recorded = {}
        nb.cells = [c for c in nb.cells if MARK not in c.metadata]
        key = self._answer_key(resources)
        titles = exercises.titles(key or nb)
        defined = {**exercises.defined_by(nb), **(exercises.defined_by(key) if key else {})}
        for cell in nb.cells:
            if not is_test(cell):
                continue
            gid = cell.metadata["nbgrader"]["grade_id"]
            recorded[gid] = {"records": records_of(cell), "errors": [_plain_error(e) for e in _errors(cell)]}
            tests = None if reference is None else reference.get(gid)
            if reference is not None and tests is None:
                message = "No hay referencia para esta prueba: el corrector no pudo prepararla."
            else:
                message = judge_cell(cell, tests if reference is not None else None,
                                     lambda error: exercises.explain(error, defined, titles.get(gid, "")))
            cell.outputs = [] if message is None else [
                new_output("error", ename="AssertionError", evalue=message, traceback=[f"AssertionError: {message}"])]
            cell.source = originals.get(gid, cell.source)
        if self.records_file:
            Path(self.records_file).write_text(json.dumps(recorded, ensure_ascii=False))
        return nb, resources


def _same(kind: str, a: dict, b: dict) -> bool:
    """Whether two runs of the key recorded the same thing at one check (within the check's tolerance)."""
    if a.get("kind") != b.get("kind"):
        return False
    for part in ("value", "expected"):
        if (part in a) != (part in b):
            return False
        if part in a and a[part] != b[part]:
            x, y = verdicts.decode(a[part]), verdicts.decode(b[part])
            if kind != "close" or verdicts.judge("close", x, y, rtol=1e-7, atol=1e-9) is not None:
                return False
    return True


def classify(first: dict, second: dict) -> dict:
    """The reference from the answer key's two runs (:data:`RECORDS_NAME` of each): every test's
    sites, each ``clave`` if both runs recorded the same values there, else ``propia``; with the
    first run's records. Raises ``ValueError`` (Spanish) if the key failed one of its own tests."""
    reference, failed = {}, []
    for gid, run in first.items():
        if run["errors"]:
            failed.append(f"«{gid}»: {run['errors'][0][:300]}")
        sites = {}
        for record in run["records"]:
            sites.setdefault(str(record["site"]), []).append(record)
        other = {}
        for record in second.get(gid, {}).get("records", []):
            other.setdefault(str(record["site"]), []).append(record)
        reference[gid] = {"sites": {}}
        for site, records in sites.items():
            for record in records:
                expected = verdicts.decode(record["expected"]) if "expected" in record else None
                message = judge_record(record, record, OWN_MODE) if expected is not None or record["kind"] == "true" \
                    else None
                if message:
                    failed.append(f"«{gid}»: {message[:300]}")
            same = len(records) == len(other.get(site, [])) and not any(r.get(OWN_CODE) for r in records) and all(
                _same(r["kind"], r, o) for r, o in zip(records, other[site]))
            reference[gid]["sites"][site] = {"mode": KEY_MODE if same else OWN_MODE, "records": records}
    if failed:
        raise BadInput("La clave de respuestas no supera sus propias pruebas:\n  " + "\n  ".join(failed))
    return reference
