"""A student's first minutes in Colab, simulated offline, for every lab.

The published distribution becomes a local git repository tagged with the pinned version, and git
is told that the public repository's address means that folder. A throwaway virtual environment
sees this environment's packages (torch included) as Colab's preinstalled ones, but not this
checkout's ``helpers``. A kernel in it, with ``google.colab`` imported as in Colab, runs each
release notebook's setup cell (which pip-installs the course package) and the cells up to the first
exercise in the full profile, with stand-ins where the real datasets go and no network at all.
"""
import json
import os
import subprocess
import sysconfig
import venv

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import checks, standins
from helpers.course import GPU_LABS, REPO_URL, REPO_VERSION, existing_labs
from helpers.instructor import publish

pytestmark = pytest.mark.slow

KERNEL = "colab-simulado"
FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'
WHERE_FROM = ("import helpers, importlib.util\n"
              "print(helpers.__file__, importlib.util.find_spec('helpers.instructor'))")


def _run(*cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """``(environment, content, repo, site)``: the kernel's environment variables, its working folder
    (Colab's ``/content``), the public repository and the throwaway environment's site-packages."""
    tmp = tmp_path_factory.mktemp("colab")
    repo = tmp / "repositorio_publico"
    publish.publish(repo)
    git = ("git", "-c", "user.name=curso", "-c", "user.email=curso@example.org")
    _run(*git, "init", "-q", cwd=repo)
    _run(*git, "add", "-A", cwd=repo)
    _run(*git, "commit", "-qm", "Distribución del alumnado", cwd=repo)
    _run(*git, "tag", REPO_VERSION, cwd=repo)

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A plain path line: this environment's packages become visible, but its own .pth files (the
    # editable install of this checkout's helpers) are not run.
    with open(os.path.join(site, "preinstalado_en_colab.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")

    kernels = tmp / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab simulado", "language": "python"}))

    content = tmp / "content"
    for make in (standins.mnist, standins.cifar10, standins.fer2013):
        make(content / "datos")
    offline = "http://127.0.0.1:9"  # a closed port: any download fails at once
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "COURSE_PROFILE", "COURSE_DATA", "COURSE_WORK",
                                "NBGRADER_EXECUTION")}
    environment.update({
        "JUPYTER_PATH": str(tmp / "jupyter"), "XDG_CACHE_HOME": str(tmp / "cache"), "TORCH_HOME": str(tmp / "torch"),
        "http_proxy": offline, "https_proxy": offline, "HTTP_PROXY": offline, "HTTPS_PROXY": offline, "no_proxy": "",
        "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{repo}.insteadOf", "GIT_CONFIG_VALUE_0": REPO_URL,
    })
    return environment, content, repo, site


def _execute(cells, colab, monkeypatch):
    environment, content = colab[:2]
    monkeypatch.setenv("JUPYTER_PATH", environment["JUPYTER_PATH"])  # where nbclient finds the kernel
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FAKE_COLAB), *cells])
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(content)}})
    client.execute(env=environment)
    return nb


def _first_cells(nb):
    """The cells before the first code exercise: what a student runs before writing anything."""
    first = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"))
    return [c for c in nb.cells[:first] if c.cell_type == "code"]


def _errors(nb):
    return [f"{o.ename}: {o.evalue}" for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("lab", existing_labs())
def test_a_lab_starts_in_colab_from_the_published_tag(lab, colab, monkeypatch):
    release = nbformat.read(str(colab[2] / "release" / lab / f"{lab}.ipynb"), as_version=4)
    nb = _execute([*_first_cells(release), nbformat.v4.new_code_cell(WHERE_FROM)], colab, monkeypatch)
    if lab in GPU_LABS:  # they stop without a GPU (checks.require_gpu), as here  # no GPU here: it stops, in Spanish and without a traceback, and nothing else fails
        [stop] = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert (stop.ename, stop.evalue) == ("SinGPU", checks.GPU_REQUIRED) and stop.traceback == [stop.evalue]
    else:
        assert not _errors(nb), _errors(nb)
    assert "Perfil 'full'" in _text(nb.cells[1]), "the setup cell describes the full profile"
    where = _text(nb.cells[-1]).split()
    assert where[0] == f"{colab[3]}/helpers/__init__.py", "helpers must come from the pip install"
    assert where[1] == "None", "students must not get helpers.instructor"


def test_a_failed_install_says_what_to_do_without_a_traceback(colab, monkeypatch):
    release = nbformat.read(str(colab[2] / "release" / existing_labs()[0] / f"{existing_labs()[0]}.ipynb"),
                            as_version=4)
    setup = release.cells[1]
    setup.source = setup.source.replace(f"@{REPO_VERSION}", "@v0.0.404")
    nb = _execute([setup], colab, monkeypatch)
    [error] = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ErrorDePreparacion"
    assert error.traceback == [error.evalue] and "No se pudo instalar el paquete del curso" in error.evalue
