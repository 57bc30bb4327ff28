"""A corpus of damaged submissions, made from a lab's real release and answer key.

``damaged(lab)`` returns ``{file name: (notebook or raw bytes, what the case is)}``; every notebook
starts from the perfect submission (``build.student_version(lab, "all")``), so whatever it loses is
due to the damage alone.
"""
import copy
import json

import nbformat

from helpers.instructor import build, nbgrader_io


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if _gid(c) == grade_id)


def _ids(lab):
    """Solution and test grade_ids of ``lab``'s code cells, in order."""
    nb = nbgrader_io.read_notebook(build.lab_notebook("release", lab))
    sols = [_gid(c) for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    tests = [_gid(c) for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    return sols, tests


def colab_saved(nb) -> bytes:
    """``nb`` as Colab saves it: nbformat 4.0 without cell ids, Colab metadata, no deletable/editable."""
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 0
    data["metadata"] = {"colab": {"provenance": [], "name": "lab.ipynb", "gpuType": "T4"},
                        "kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "language_info": {"name": "python"}, "accelerator": "GPU"}
    for n, cell in enumerate(data["cells"]):
        cell.pop("id", None)
        cell["metadata"].pop("deletable", None)
        cell["metadata"].pop("editable", None)
        cell["metadata"]["id"] = f"Xy{n:04d}ColabZ"
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"out{n:04d}-colab"
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hola\n"]}]
            cell["execution_count"] = n
    return json.dumps(data, indent=2).encode()


def damaged(lab: str) -> dict:
    """The corpus: file name -> (notebook, or bytes for raw files, description)."""
    perfect = build.student_version(lab, "all")
    sols, tests = _ids(lab)
    cases = {"perfecto.ipynb": (perfect, "entrega perfecta")}

    nb = copy.deepcopy(perfect)
    del nb.cells[_index(nb, tests[1])]
    cases["sin_prueba.ipynb"] = (nb, f"celda de pruebas {tests[1]} borrada")

    nb = copy.deepcopy(perfect)
    i = _index(nb, tests[3])
    nb.cells[i] = nbformat.v4.new_markdown_cell(nb.cells[i].source, metadata=nb.cells[i].metadata)
    cases["prueba_markdown.ipynb"] = (nb, f"celda de pruebas {tests[3]} convertida en markdown")

    nb = copy.deepcopy(perfect)
    for gid in (sols[2], tests[4]):
        i = _index(nb, gid)
        twin = copy.deepcopy(nb.cells[i])
        twin.id = f"copia-{gid}"[:60]
        nb.cells.insert(i + 1, twin)
    cases["duplicadas.ipynb"] = (nb, f"celdas {sols[2]} y {tests[4]} duplicadas")

    nb = copy.deepcopy(perfect)
    for n, cell in enumerate(nb.cells):
        cell.metadata.pop("nbgrader", None)
        cell.id = f"otra-{n}"
    cases["sin_metadatos.ipynb"] = (nb, "todos los metadatos de nbgrader borrados (y los ids de celda)")

    nb = copy.deepcopy(perfect)
    i, j = _index(nb, sols[0]), _index(nb, tests[0])
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]  # test before its solution
    k = _index(nb, tests[-1])
    nb.cells.insert(0, nb.cells.pop(k))  # last test moved to the top
    cases["desordenado.ipynb"] = (nb, "celdas reordenadas")

    nb = copy.deepcopy(perfect)
    i = _index(nb, sols[2])
    # it waits rather than spins: the limit per cell is wall-clock time, and a spinning loop would only take
    # a core from the classmates graded meanwhile (45 s of CPU in this suite)
    nb.cells[i].source = "import time\n\nwhile True:  # bucle infinito\n    time.sleep(1)\n" + nb.cells[i].source
    cases["bucle_infinito.ipynb"] = (nb, f"bucle infinito en {sols[2]}")

    nb = copy.deepcopy(perfect)
    i = _index(nb, sols[4])
    nb.cells[i].source = "import os\nos._exit(1)  # el núcleo se cae\n" + nb.cells[i].source
    cases["nucleo_caido.ipynb"] = (nb, f"el núcleo se cae en {sols[4]}")

    nb = copy.deepcopy(perfect)
    i = _index(nb, sols[5])
    nb.cells[i].source = ("def comer_memoria():\n    bloques = []\n    while True:  # come memoria sin parar\n"
                          "        bloques.append(bytes(512 * 2**20))  # calloc: crece sin tocar la RAM\n\n"
                          "comer_memoria()\n" + nb.cells[i].source)
    cases["memoria.ipynb"] = (nb, f"celda que agota la memoria en {sols[5]}")

    cases["colab.ipynb"] = (colab_saved(perfect), "guardado por Colab")
    cases["corrupto.ipynb"] = (nbformat.writes(perfect).encode()[:5000], "JSON cortado")
    cases["vacio.ipynb"] = (b"", "archivo vacío")
    other = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Otro laboratorio"),
        nbformat.v4.new_code_cell("modelo = None", metadata={"nbgrader": {
            "grade": False, "grade_id": "otro_modelo", "locked": False, "schema_version": 3, "solution": True,
            "task": False}})])
    cases["otro_lab.ipynb"] = (other, "cuaderno de otro laboratorio")
    cases["notas.txt"] = (b"no es un cuaderno", "archivo que no es un cuaderno")
    return cases


def write(cases: dict, folder) -> None:
    """Write the corpus files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (content, _) in cases.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(nbformat.writes(content))
