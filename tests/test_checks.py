"""helpers.checks: the GPU check speaks only where it matters."""
import dataclasses

import torch

from helpers import checks
from helpers.runtime import profile


def test_check_gpu_explains_in_spanish_only_in_full_without_cuda(capsys):
    smoke = profile()
    assert checks.check_gpu(smoke) and capsys.readouterr().out == ""
    full_on_cpu = dataclasses.replace(smoke, name="full", device=torch.device("cpu"))
    assert not checks.check_gpu(full_on_cpu)
    assert "Cambiar tipo de entorno de ejecución" in capsys.readouterr().out
    full_on_gpu = dataclasses.replace(smoke, name="full", device=torch.device("cuda"))
    assert checks.check_gpu(full_on_gpu) and capsys.readouterr().out == ""
