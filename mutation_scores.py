"""Print the mutation score of each module of ``helpers`` from mutmut's results (``make mutation``), and
which survivors have no reason in ``mutation-survivors.md``.

Score = killed / (killed + survived + no tests). Killed counts a failing test, a timeout and a crash;
a mutant that no quick test reaches ("no tests") counts as surviving. A survivor is "accepted" when a line
of ``mutation-survivors.md`` names it: `` `module.function` 3, 5-7 `` (the module relative to ``helpers``,
``Class.method`` for a method). ``--unaccepted`` lists the others by name (``mutmut show NAME`` prints one).
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}
NAMED = re.compile(r"`([A-Za-z_][\w.]*)`\s+(\d+(?:\s*-\s*\d+)?(?:\s*,\s*\d+(?:\s*-\s*\d+)?)*)")


def mutant_key(function: str, number: int) -> str:
    """mutmut's name for mutant ``number`` of ``function`` ("training.fit", "instructor.collect.Identity.record")."""
    parts = function.split(".")
    if len(parts) > 2 and parts[-2][:1].isupper():
        module, name = parts[:-2], f"xǁ{parts[-2]}ǁ{parts[-1]}"
    else:
        module, name = parts[:-1], f"x_{parts[-1]}"
    package = ".".join(["helpers", *(part for part in module if part != "__init__")])
    return f"{package}.{name}__mutmut_{number}"


def accepted(path: Path = Path("mutation-survivors.md")) -> set[str]:
    """Every mutant a line of the survivors' file names."""
    names, bullets = set(), []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            bullets.append(line)
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()  # a bullet goes on over indented lines
        else:
            bullets.append("")
    for bullet in bullets:
        for function, numbers in NAMED.findall(bullet):
            for part in numbers.split(","):
                first, _, last = part.strip().partition("-")
                for n in range(int(first), int(last or first) + 1):
                    names.add(mutant_key(function, n))
    return names


def results(root: Path = Path("mutants")) -> dict[str, dict[str, str]]:
    """Status of every mutant tried, by module."""
    by_module = {}
    for meta in sorted(root.glob("helpers/**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            module = str(meta.relative_to(root))[: -len(".py.meta")].replace("/", ".")
            by_module[module] = {key: status_by_exit_code[code] for key, code in codes.items()}
    return by_module


def main(argv: list[str]) -> int:
    reasons = accepted()
    unaccepted = []
    print(f"{'module':<30}{'killed':>8}{'survived':>10}{'no tests':>10}{'score':>8}{'no reason':>11}")
    for module, statuses in results().items():
        c = Counter(statuses.values())
        killed = sum(c[s] for s in KILLED)
        counted = killed + c["survived"] + c["no tests"]
        left = sorted(k for k, s in statuses.items() if s in SURVIVED and k not in reasons)
        unaccepted += left
        score = f"{killed / counted:.0%}" if counted else "-"
        note = f"  ({c['not checked']} not run)" if c["not checked"] else ""
        print(f"{module:<30}{killed:>8}{c['survived']:>10}{c['no tests']:>10}{score:>8}{len(left):>11}{note}")
    if "--unaccepted" in argv:
        print("\n".join(unaccepted))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
