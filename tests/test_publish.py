"""``course publish``: the student distribution holds what students need, and never the key."""
import re
import shutil
import subprocess
import sys
import tomllib

import nbformat
import pytest

from helpers import course, data
from helpers.course import REPO_URL, REPO_VERSION, ROOT, existing_labs, lab_notebook
from helpers.instructor import build, cli, leaks, nbgrader_io, publish

LAB = "lab1_convolutions"


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    dest = tmp_path_factory.mktemp("publico")
    publish.publish(dest)
    return dest


def _course_copy(tmp_path, lab=LAB):
    """A course with one lab (source, release and the student library), to plant leaks in."""
    root = tmp_path / "curso"
    for folder in ("source", "release"):
        shutil.copytree(lab_notebook(folder, lab).parent, lab_notebook(folder, lab, root).parent)
    shutil.copytree(ROOT / "helpers", root / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def _source_cell(grade_id):
    nb = nbgrader_io.read_notebook(lab_notebook("source", LAB))
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_distribution_is_release_library_readme_and_nothing_else(published):
    names = set(_tree(published))
    assert {"README.md", "pyproject.toml", "helpers/__init__.py", "helpers/data.py"} <= names
    assert {f"release/{lab}/{lab}.ipynb" for lab in existing_labs()} <= names
    assert all(n in ("README.md", "pyproject.toml") or n.startswith(("release/", "helpers/")) for n in names)
    assert not [n for n in names if "instructor" in n or n.endswith(".pyc")]
    for lab in existing_labs():
        assert (published / "release" / lab / f"{lab}.ipynb").read_bytes() == lab_notebook("release", lab).read_bytes()


def test_publishing_twice_changes_nothing(published):
    before = _tree(published)
    mtimes = {p: p.stat().st_mtime_ns for p in published.rglob("*")}
    assert publish.publish(published) == []
    assert _tree(published) == before
    assert {p: p.stat().st_mtime_ns for p in published.rglob("*")} == mtimes


def test_stale_files_go_and_the_git_folder_stays(tmp_path):
    publish.publish(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "release" / "lab9_viejo").mkdir()
    (tmp_path / "release" / "lab9_viejo" / "lab9_viejo.ipynb").write_text("{}")
    assert publish.publish(tmp_path) == ["borrado release/lab9_viejo/lab9_viejo.ipynb"]
    assert not (tmp_path / "release" / "lab9_viejo").exists()
    assert (tmp_path / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


def test_student_package_is_the_library_alone_at_the_pinned_version(published):
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    theirs = tomllib.loads((published / "pyproject.toml").read_text())
    assert theirs["tool"]["setuptools"]["packages"] == ["helpers"]
    assert theirs["project"]["version"] == REPO_VERSION.removeprefix("v")
    assert theirs["project"]["dependencies"] == ours["dependencies"]
    assert not [d for d in ours["dependencies"] if d.startswith(("torch==", "torchvision=="))], "Colab keeps its torch"


def test_student_readme_opens_every_lab_and_explains_submission_and_fer(published):
    readme = (published / "README.md").read_text()
    for lab in existing_labs():
        assert build.colab_url(lab) in readme
    for words in ("Guardar una copia en Drive", "Descargar .ipynb", "datos/fer2013/train", REPO_VERSION):
        assert words in readme


def _origins(text: str) -> set[str]:
    """The origins a text lists, one per bullet: ``- `"kaggle"`: ...``."""
    return set(re.findall(r'^- `"([^"`]+)"`', text, re.M))


def _file_formats(text: str) -> set[str]:
    """The file names and patterns a text promises: `*.jpg`, `fer2013.csv`..."""
    return set(re.findall(r"`(\*\.\w+|fer2013\.csv)`", text))


@pytest.mark.parametrize("lab", ["lab3_vgg16", "lab5_fer2013"])
@pytest.mark.parametrize("url", ["", "https://ejemplo.org/curso/fer2013.zip"])
def test_the_student_readme_and_the_labs_say_the_same_about_getting_fer2013(url, lab, monkeypatch):
    monkeypatch.setattr(course, "FER2013_URL", url)
    readme = publish.student_readme()
    section = readme[readme.index("## FER-2013"):]
    section = section[:section.index("\n## ")]
    nb = nbgrader_io.read_notebook(lab_notebook("release", lab))
    told = next(c.source for c in nb.cells if c.cell_type == "markdown" and "### Conseguir los datos" in c.source)
    run = next(c.source for c in nb.cells if c.cell_type == "code" and "get_fer2013(ORIGEN" in c.source)
    assert _origins(section) == _origins(told) == {data.FER_DEFAULT_ORIGIN, *data.FER_ORIGINS}
    assert _file_formats(section) == _file_formats(told) == {"*.jpg", "*.png", "fer2013.csv"}  # Kaggle's are JPG
    assert re.search(r'^ORIGEN = "([^"]+)"', run, re.M)[1] == data.FER_DEFAULT_ORIGIN
    with_url = "se descarga de ahí, sin cuenta ni token" in section
    assert with_url == bool(url) and ("todavía no tiene un enlace propio" in section) == (not url)


@pytest.mark.parametrize("version", ["main", "master", "v1.0-dev", "1.0", ""])
def test_only_a_tag_pins_the_version(version):
    with pytest.raises(ValueError, match="debe ser un tag fijo"):
        build.student_package(version)
    assert build.student_package("v2026.2") == f"git+{REPO_URL}@v2026.2"


def test_badge_and_setup_cell_name_the_pinned_version():
    badge, setup = build.header_cells(LAB)
    assert f"/blob/{REPO_VERSION}/release/{LAB}/{LAB}.ipynb" in badge.source
    assert f'PAQUETE = "git+{REPO_URL}@{REPO_VERSION}"' in setup.source


def test_setup_cell_outside_colab_without_the_package_says_how_to_install_it(tmp_path):
    setup = build.header_cells(LAB)[1].source
    # -S: no site-packages, so no helpers anywhere; the cell gets as far as its own check
    proc = subprocess.run([sys.executable, "-S", "-c", setup], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "ErrorDePreparacion: No se encuentra el paquete del curso" in proc.stderr
    assert f"pip install {build.student_package()}" in proc.stderr


def test_answer_keys_carry_no_badge_to_the_public_repository():
    assert [c.id for c in build.header_cells(LAB, "solutions")] == ["setup"]
    assert "colab.research.google.com/github" not in lab_notebook("solutions", LAB).read_text()


def _plant_in_library(root, line):
    path = root / "helpers" / "plots.py"
    path.write_text(path.read_text() + f"# {line}\n")
    return f"helpers/plots.py, línea {len(path.read_text().splitlines())}"


def _plant_in_release(root, line):
    path = lab_notebook("release", LAB, root)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Una pista:\n{line}"))
    nbformat.write(nb, str(path))
    return f"release/{LAB}/{LAB}.ipynb, celda {len(nb.cells)}, línea 2"


SECRETS = {  # one line of each kind of secret in lab 1's source
    "solution": lambda: _source_cell("conv_manual").source.split("### BEGIN SOLUTION")[1].splitlines()[2],
    "hidden test": lambda: _source_cell("test_conv_manual").source.split("### BEGIN HIDDEN TESTS")[1].splitlines()[1],
    "rubric": lambda: next(line for c in nbgrader_io.read_notebook(lab_notebook("source", LAB)).cells
                           for line in c.source.splitlines() if line.startswith("**Rúbrica")),
}


@pytest.mark.parametrize("plant", [_plant_in_library, _plant_in_release])
@pytest.mark.parametrize("kind", SECRETS)
def test_a_planted_leak_is_refused_and_named_and_nothing_is_written(tmp_path, kind, plant):
    root, dest = _course_copy(tmp_path), tmp_path / "publico"
    line = SECRETS[kind]()
    assert len(leaks.normalise(line)) >= leaks.MIN_CHARS, f"pick a longer {kind} line: {line!r}"
    where = plant(root, line)
    with pytest.raises(leaks.LeakError) as error:
        publish.publish(dest, root)
    assert f"{where}: {leaks.normalise(line)}" in str(error.value)
    assert not dest.exists()


def test_the_course_as_it_is_leaks_nothing():
    assert leaks.find_leaks(publish.student_files(), ROOT) == []


def test_solutions_would_be_caught():
    key = {f"solutions/{LAB}.ipynb": lab_notebook("solutions", LAB).read_bytes()}
    assert len(leaks.find_leaks(key, ROOT)) > 10


def test_secret_lines_skip_short_lines_and_lines_students_see_anyway(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n"
                                  "    y = x.reshape(-1, 4) @ pesos_secretos\n"
                                  "    imprime_el_resultado_final(y)\n    ### END SOLUTION",
                                  metadata={"nbgrader": {"solution": True, "grade_id": "f"}}),
        nbformat.v4.new_code_cell("imprime_el_resultado_final(y)\n### BEGIN HIDDEN TESTS\n"
                                  "assert f(torch.ones(8)).shape == (2, 4)\n### END HIDDEN TESTS"),
        nbformat.v4.new_markdown_cell("Respuesta modelo: la convolución comparte pesos.\n\n"
                                      "**Rúbrica.** 1 punto: pesos.",
                                      metadata={"nbgrader": {"solution": True, "grade_id": "q"}}),
    ])
    (tmp_path / "source" / LAB).mkdir(parents=True)
    nbformat.write(nb, str(lab_notebook("source", LAB, tmp_path)))
    assert leaks.secret_lines(tmp_path) == {
        "y = x.reshape(-1, 4) @ pesos_secretos", "assert f(torch.ones(8)).shape == (2, 4)",
        "Respuesta modelo: la convolución comparte pesos.", "**Rúbrica.** 1 punto: pesos."}


def test_publish_refuses_the_course_itself_and_a_foreign_folder(tmp_path, capsys):
    assert cli.main(["publish", str(ROOT)]) == 1
    assert "repositorio privado del curso" in capsys.readouterr().err
    (tmp_path / "fotos.txt").write_text("mías")
    assert cli.main(["publish", str(tmp_path)]) == 1
    assert "no está vacía" in capsys.readouterr().err
    assert (tmp_path / "fotos.txt").read_text() == "mías" and len(list(tmp_path.iterdir())) == 1



def test_the_labs_that_stop_without_a_gpu_are_the_ones_the_readme_names():
    """``course.GPU_LABS`` is the one list: their setup cell calls ``checks.require_gpu`` and the others' only
    warn; the student README names them (tests/test_colab_start.py runs each setup cell as Colab would)."""
    for lab in existing_labs():
        code = "\n".join(c.source for c in nbgrader_io.read_notebook(lab_notebook("release", lab)).cells
                         if c.cell_type == "code")
        assert ("checks.require_gpu(perfil)" in code) == (lab in course.GPU_LABS), lab
        assert ("checks.check_gpu(perfil)" in code) == (lab not in course.GPU_LABS and lab != "lab1_convolutions"), lab
    assert "los laboratorios 3, 4 y 5 se detienen sin GPU" in publish.student_readme()
