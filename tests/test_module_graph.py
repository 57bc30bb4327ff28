"""The shape of ``helpers/``: its modules import each other without a loop (counting the imports inside
functions, so that none hides one), the student library never imports the instructor's tools, and no function
of the grading side is 60 lines or longer."""
import ast
from pathlib import Path

from helpers.course import ROOT

LIBRARY = ROOT / "helpers"
LONGEST = 60  # lines, a grading-side function must be shorter


def modules(folder: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package ``folder`` (named after it)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(folder: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in it (top level, functions, branches)."""
    mods = modules(folder)
    graph = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                submodules = {f"{module}.{alias.name}" for alias in node.names} & mods.keys()
                targets |= submodules or {module}  # `from . import x` imports x, `from .x import f` imports x
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or round about (Tarjan's algorithm)."""
    index, low, stack, found = {}, {}, [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_a_loop_hidden_in_a_function_is_found(tmp_path):
    """The check itself: two modules that import each other, one of them only inside a function."""
    package = tmp_path / "paquete"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import g\n")
    (package / "c.py").write_text("from .b import f\n")
    assert loops(imports(package)) == [["paquete.a", "paquete.b"]]


def test_helpers_imports_without_a_loop():
    assert loops(imports(LIBRARY)) == []


def test_the_student_library_never_imports_the_instructors_tools():
    upward = {(m, t) for m, targets in imports(LIBRARY).items() if not m.startswith("helpers.instructor")
              for t in targets if t.startswith("helpers.instructor")}
    assert upward == set()


def test_every_grading_side_function_is_shorter_than_60_lines():
    long = {f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1
            for path in sorted((LIBRARY / "instructor").glob("*.py")) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 >= LONGEST}
    assert long == {}
