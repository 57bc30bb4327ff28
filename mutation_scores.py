"""Print the mutation score of each module of ``helpers`` from mutmut's results (``make mutation``).

Score = killed / (killed + survived + no tests). Killed counts a failing test, a timeout and a crash;
a mutant that no quick test reaches ("no tests") counts as surviving. Modules not yet run are marked.
"""
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "segfault", "caught by type check"}


def scores(root: Path = Path("mutants")) -> list[tuple[str, Counter]]:
    rows = []
    for meta in sorted(root.glob("helpers/**/*.py.meta")):
        results = json.loads(meta.read_text())["exit_code_by_key"]
        if results:
            module = str(meta.relative_to(root))[: -len(".py.meta")].replace("/", ".")
            rows.append((module, Counter(status_by_exit_code[code] for code in results.values())))
    return rows


def main() -> int:
    print(f"{'module':<32}{'killed':>8}{'survived':>10}{'no tests':>10}{'score':>8}")
    for module, c in scores():
        killed = sum(c[s] for s in KILLED)
        counted = killed + c["survived"] + c["no tests"]
        pending = c["not checked"]
        score = f"{killed / counted:.0%}" if counted else "-"
        note = f"  ({pending} not run)" if pending else ""
        print(f"{module:<32}{killed:>8}{c['survived']:>10}{c['no tests']:>10}{score:>8}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
