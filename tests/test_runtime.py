import subprocess
import sys
import warnings

import pytest
import torch

from helpers import runtime


@pytest.mark.parametrize("env, expected", [
    ({}, "full"),
    ({"COURSE_PROFILE": "smoke"}, "smoke"),
    ({"COURSE_PROFILE": "full"}, "full"),
    ({"NBGRADER_EXECUTION": "autograde"}, "smoke"),
    ({"NBGRADER_EXECUTION": "validate", "COURSE_PROFILE": "full"}, "smoke"),
])
def test_profile_follows_environment(monkeypatch, env, expected):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert runtime.profile().name == expected


def test_invalid_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "rapido")
    with pytest.raises(ValueError, match="COURSE_PROFILE='rapido' no es válido"):
        runtime.profile()


def test_smoke_budgets(monkeypatch):
    p = runtime.profile()
    assert p.device == torch.device("cpu") and not p.download and not p.pretrained
    assert p.epochs(full=10) == 1 and p.epochs(full=10, smoke=6) == 6
    assert len(p.limit(list(range(5000)), "train")) == p.train_size
    assert len(p.limit(list(range(10)), "test")) == 10
    monkeypatch.setenv("COURSE_PROFILE", "full")
    full = runtime.profile()
    assert full.epochs(full=10, smoke=6) == 10 and full.limit([1, 2, 3], "train") == [1, 2, 3]


@pytest.fixture(scope="module")
def fresh_interpreter():
    """What a new Python process under nbgrader (``NBGRADER_EXECUTION``, nothing else) printed: whether
    PyTorch was loaded after ``import helpers`` and after its first use, and the profile it chose."""
    code = ("import sys, helpers\nprint('torch' in sys.modules)\nfrom helpers import profile, seed_everything\n"
            "print('torch' in sys.modules, profile is helpers.profile, callable(seed_everything))\n"
            "try:\n    helpers.no_existe\nexcept AttributeError as e:\n    print(e)\nprint(profile().name)")
    env = {"NBGRADER_EXECUTION": "autograde", "PATH": ""}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_nbgrader_execution_means_smoke_in_a_fresh_interpreter(fresh_interpreter):
    assert fresh_interpreter[-1] == "smoke"


def test_seed_everything_repeats_random_numbers():
    runtime.seed_everything(3)
    a = torch.rand(4)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.rand(4))


def test_limit_cap_tightens_smoke_and_leaves_full_alone(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    smoke = runtime.profile()
    assert len(smoke.limit(list(range(5000)), "test", cap=40)) == 40
    assert len(smoke.limit(list(range(5000)), "train", cap=10**6)) == smoke.train_size
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert len(runtime.profile().limit(list(range(5000)), "train", cap=16)) == 5000


def test_warnings_print_on_stdout_so_nbgrader_does_not_zero_the_cell():
    code = "import warnings, helpers; helpers.prepare_notebook(); warnings.warn('aviso inofensivo')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Aviso (UserWarning): aviso inofensivo" in out.stdout and out.stderr == ""


def test_a_warning_is_one_spanish_line_on_stdout(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        runtime.prepare_notebook()
        warnings.warn("aviso inofensivo")
        warnings.warn("obsoleto", DeprecationWarning)
    out = capsys.readouterr()
    assert out.out == "Aviso (UserWarning): aviso inofensivo\nAviso (DeprecationWarning): obsoleto\n"
    assert out.err == ""


def test_helpers_hands_out_the_runtime_functions_on_first_use():
    import helpers
    assert helpers.profile is runtime.profile and helpers.seed_everything is runtime.seed_everything
    assert helpers.prepare_notebook is runtime.prepare_notebook
    with pytest.raises(AttributeError, match="^module 'helpers' has no attribute 'no_existe'$"):
        helpers.no_existe


def test_course_max_steps_cuts_only_the_full_profile(monkeypatch):
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")
    smoke = runtime.profile()
    assert smoke.max_batches == 16 and smoke.epochs(full=10, smoke=6) == 6 and smoke.dry_run_steps is None
    monkeypatch.setenv("COURSE_PROFILE", "full")
    dry = runtime.profile()
    assert dry.max_batches == 2 and dry.epochs(full=10) == 1 and dry.epochs(full=10, smoke=6) == 6
    assert dry.epochs(full=3, smoke=6) == 3 and "COURSE_MAX_STEPS=2" in dry.describe()
    # nothing else changes: same data, device, downloads and ImageNet weights as a real full run
    monkeypatch.delenv("COURSE_MAX_STEPS")
    real = runtime.profile()
    assert real.max_batches is None and real.epochs(full=10) == 10
    assert (dry.device, dry.data_root, dry.train_size, dry.test_size, dry.pretrained, dry.download) == \
        (real.device, real.data_root, real.train_size, real.test_size, real.pretrained, real.download)


@pytest.mark.parametrize("value", ["0", "-1", "dos", "1.5"])
def test_invalid_course_max_steps_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_MAX_STEPS", value)
    with pytest.raises(ValueError, match="COURSE_MAX_STEPS"):
        runtime.profile()


def test_importing_helpers_leaves_pytorch_for_first_use(fresh_interpreter):
    """The grader's processes import ``helpers`` and never need PyTorch; a notebook gets it on first use."""
    assert fresh_interpreter[:3] == ["False", "True True True", "module 'helpers' has no attribute 'no_existe'"]


def test_profile_names_ignore_case_and_spaces(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "  SMOKE ")
    assert runtime.profile().is_smoke
    monkeypatch.setenv("COURSE_PROFILE", " Full")
    assert not runtime.profile().is_smoke and runtime.profile_name() == "full"


def test_each_profile_says_what_it_does_and_where_its_data_are(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    smoke = runtime.profile()
    assert smoke.data_root == tmp_path / "cache" / "dl-curso" / "standins"
    assert (smoke.train_size, smoke.test_size, smoke.max_batches, smoke.dry_run_steps) == (1024, 256, 16, None)
    assert smoke.describe() == (f"Perfil 'smoke': CPU, sin red, datos sustitutos pequeños en {smoke.data_root}, "
                                "pocas épocas de como máximo 16 lotes.")
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.chdir(tmp_path)
    full = runtime.profile()
    assert full.data_root == tmp_path / "datos" and full.pretrained and full.download
    assert (full.train_size, full.test_size, full.max_batches) == (None, None, None)
    assert full.describe() == (f"Perfil 'full': dispositivo {full.device}, datos reales en {full.data_root}, "
                               "épocas completas y pesos de ImageNet.")
    assert full.device == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("COURSE_MAX_STEPS", "1")
    assert runtime.profile().max_batches == 1
    monkeypatch.setenv("COURSE_MAX_STEPS", " 3 ")
    assert runtime.profile().describe() == (
        f"Perfil 'full' en ensayo (COURSE_MAX_STEPS=3): dispositivo {full.device}, datos en {full.data_root}, "
        "épocas de como máximo 3 lote(s) y tantas como en 'smoke'; el resto, como en Colab.")
    for name in ("full", "smoke"):  # COURSE_DATA (the grader's sealed kernels) moves both
        monkeypatch.setenv("COURSE_PROFILE", name)
        monkeypatch.setenv("COURSE_DATA", str(tmp_path / "otros"))
        assert runtime.profile().data_root == tmp_path / "otros"


def test_labs_write_beside_their_data_unless_course_work_says_where(monkeypatch, tmp_path):
    """Colab and the instructor's machine keep the weights beside the data; a sealed grading kernel,
    whose data are read-only, names its working folder with ``COURSE_WORK``."""
    monkeypatch.delenv("COURSE_WORK", raising=False)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "datos"))
    for name in ("full", "smoke"):
        monkeypatch.setenv("COURSE_PROFILE", name)
        assert runtime.profile().work_root == tmp_path / "datos"
        monkeypatch.setenv("COURSE_WORK", str(tmp_path / "trabajo"))
        moved = runtime.profile()
        assert (moved.work_root, moved.data_root) == (tmp_path / "trabajo", tmp_path / "datos")
        monkeypatch.delenv("COURSE_WORK")


def test_a_smoke_notebook_gets_one_thread_whatever_there_was(monkeypatch):
    torch.set_num_threads(2)
    runtime.profile()
    assert torch.get_num_threads() == 2, "profile() only reads the environment"
    with warnings.catch_warnings():
        assert runtime.prepare_notebook().is_smoke
    assert torch.get_num_threads() == runtime.SMOKE_THREADS


def test_a_full_notebook_keeps_the_threads_it_has(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(runtime.SMOKE_THREADS + 1)
        with warnings.catch_warnings():
            assert not runtime.prepare_notebook().is_smoke
        assert torch.get_num_threads() == runtime.SMOKE_THREADS + 1
    finally:
        torch.set_num_threads(before)


def test_limit_keeps_the_first_examples_and_refuses_other_splits():
    smoke = runtime.profile()
    cut = smoke.limit(list(range(5000)))  # the training split unless told
    assert isinstance(cut, torch.utils.data.Subset) and list(cut) == list(range(smoke.train_size))
    whole = list(range(smoke.test_size))
    assert smoke.limit(whole, "test") is whole
    assert len(smoke.limit(list(range(smoke.train_size)), "test")) == smoke.test_size
    with pytest.raises(ValueError, match="split debe ser 'train' o 'test', no 'val'"):
        smoke.limit(whole, "val")


def test_seed_everything_repeats_python_and_numpy_too():
    import random

    import numpy as np

    runtime.seed_everything(5)
    first = (random.random(), np.random.rand())
    runtime.seed_everything(5)
    assert (random.random(), np.random.rand()) == first
    runtime.seed_everything()
    default = random.random()
    runtime.seed_everything(0)
    assert random.random() == default
