"""What every graded kernel pays before its first cell: the imports of ``WARM_UP``, step by step.

    python benchmarks/bench_kernel_imports.py [--rounds N]

Each round is a fresh interpreter that imports, in this order, PyTorch, ``torch._dynamo`` (which
torchvision imports through ``torchvision.ops``), torchvision, matplotlib and then the rest of
:data:`helpers.instructor.worker.WARM_UP`, timing what each step adds to the ones before it. The
medians of ``--rounds`` rounds (default 5) are printed, with the whole process's wall time. Every
student's kernel runs these imports once (a warm kernel, ahead of time; on a busy CPU it still costs
the same seconds), so they are a floor under the cost of grading a student and of every notebook
that the test suite executes.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.instructor.worker import WARM_UP  # noqa: E402

STEPS = [
    ("torch", "import torch"),
    ("torch._dynamo (lo importa torchvision.ops)", "import torch._dynamo"),
    ("torchvision", "import torchvision"),
    ("matplotlib.pyplot", "import matplotlib.pyplot"),
    ("el resto de WARM_UP (numpy, PIL, torchinfo, tqdm, helpers)", WARM_UP),
]

PROBE = f"""
import json, time
steps = {[code for _, code in STEPS]!r}
seconds = []
for code in steps:
    start = time.perf_counter()
    exec(code)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


def one_round() -> tuple[list[float], float]:
    """Seconds each step adds, and the wall time of the whole interpreter, in a fresh process."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="Lo que importa cada núcleo antes de su primera celda.")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds = [one_round() for _ in range(args.rounds)]
    print(f"Mediana de {args.rounds} intérpretes nuevos ({sys.executable}):")
    for i, (name, _) in enumerate(STEPS):
        print(f"  {name:<60} {statistics.median(r[0][i] for r in rounds):6.2f} s")
    print(f"  {'proceso entero (arranque y salida de Python incluidos)':<60} {statistics.median(r[1] for r in rounds):6.2f} s")


if __name__ == "__main__":
    main()
