"""``course checkpoints``: the instructor trains lab 5's models once; ``course publish`` ships them and
the notebook downloads what a student has not trained (``helpers.data.course_checkpoint``)."""

import pytest
import torch

from helpers import budgets, data, models  # noqa: F401 (models sets TORCHINDUCTOR_CACHE_DIR on import)

from helpers.instructor import checkpoints, publish
from test_publish import _course_copy

LAB = "lab5_fer2013"
NAMES = [f"DenseNet-BC-{{}} θ={t}" for t in (0.3, 0.5, 0.7)] + ["ResNet v1-{}", "ResNet v2-{}"]


@pytest.mark.slow
def test_checkpoints_train_the_five_models_in_smoke_and_publish_ships_them(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    root = _course_copy(tmp_path, LAB)
    (checkpoints.checkpoint_folder(LAB, root)).mkdir(parents=True)
    (checkpoints.checkpoint_folder(LAB, root) / "viejo.pt").write_bytes(b"de otra vez")
    files = checkpoints.make_checkpoints(LAB, root=root)
    b = budgets.fer_budget()
    depths = (b.densenet_depth,) * 3 + (b.resnet_v1_depth, b.resnet_v2_depth)
    names = [n.format(d) for n, d in zip(NAMES, depths)]
    assert sorted(f.name for f in files) == sorted([f"{n}.pt" for n in names] + [f"{n}.resultados.pt" for n in names])
    for name in names:
        saved = torch.load(checkpoints.checkpoint_folder(LAB, root) / f"{name}.resultados.pt", weights_only=False)
        assert saved["modelo"] == name and saved["presupuesto"] == (b.epochs, b.batch_size, b.max_batches, b.eval_size)
        assert len(saved["history"].val_acc) == b.epochs
    shipped = publish.student_files(root)
    assert {f"checkpoints/{LAB}/{f.name}" for f in files} <= set(shipped)
    assert not [n for n in shipped if n.endswith((".estado.pt", "viejo.pt"))]


@pytest.mark.slow
def test_checkpoints_in_full_without_a_gpu_fail_with_the_notebooks_reason(tmp_path, monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("esta máquina tiene GPU")
    for name in ("NBGRADER_EXECUTION", "COURSE_MAX_STEPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    root = _course_copy(tmp_path, LAB)
    with pytest.raises(RuntimeError, match="falló al entrenar los modelos: .*GPU T4"):
        checkpoints.make_checkpoints(LAB, root=root)
    assert not checkpoints.checkpoint_folder(LAB, root).exists()


def test_only_labs_that_train_models_for_students_have_checkpoints():
    with pytest.raises(ValueError, match="lab1_convolutions no entrena modelos"):
        checkpoints.make_checkpoints("lab1_convolutions")
    with pytest.raises(ValueError, match="no es un laboratorio del curso"):
        checkpoints.make_checkpoints("lab9")


def test_the_notebook_downloads_the_missing_course_models_and_keeps_its_own(tmp_path, monkeypatch, capsys):
    for name in ("NBGRADER_EXECUTION", "COURSE_MAX_STEPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    published, mine = tmp_path / "publicado", tmp_path / "drive"
    published.mkdir()
    mine.mkdir()
    (published / "A.pt").write_bytes(b"pesos del curso")
    (published / "A.resultados.pt").write_bytes(b"resultados del curso")
    (mine / "B.pt").write_bytes(b"mis pesos")
    asked = []

    def url(lab, name):
        asked.append((lab, name))
        return (published / name).as_uri()

    got = data.course_checkpoint(LAB, ["A.pt", "A.resultados.pt"], mine, url=url)
    assert got == [mine / "A.pt", mine / "A.resultados.pt"] and (mine / "A.pt").read_bytes() == b"pesos del curso"
    assert data.course_checkpoint(LAB, ["B.pt"], mine, url=url) == [mine / "B.pt"]
    assert (mine / "B.pt").read_bytes() == b"mis pesos" and ("lab5_fer2013", "B.pt") not in asked  # not downloaded again
    assert asked[0] == (LAB, "A.pt")
    (published / "E.pt").write_bytes(b"otro modelo del curso")
    assert data.course_checkpoint(LAB, ["B.pt", "E.pt"], mine, url=url) == [mine / "B.pt", mine / "E.pt"]
    assert data.course_checkpoint(LAB, ["C.pt", "C.resultados.pt"], mine, url=url) == []
    assert "No se pudo descargar C.pt de los modelos del curso" in capsys.readouterr().out
    assert not list(mine.glob("*.descargando"))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")  # grading never downloads
    assert data.course_checkpoint(LAB, ["D.pt", "B.pt"], mine, url=lambda lab, name: pytest.fail("descargó")) == [mine / "B.pt"]


def test_checkpoint_urls_point_at_the_pinned_public_repository():
    from helpers import course

    url = course.checkpoint_url(LAB, "DenseNet-BC-100 θ=0.3.pt")
    assert url.startswith(f"https://raw.githubusercontent.com/dl-curso-es/laboratorios/{course.REPO_VERSION}/checkpoints/")
    assert url.endswith("/lab5_fer2013/DenseNet-BC-100%20%CE%B8%3D0.3.pt")
