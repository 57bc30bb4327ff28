"""Answers that look copied: winnowed fingerprints of normalised code (the MOSS approach).

Each answer cell (nbgrader ``solution: true``) is tokenised with :mod:`tokenize`; comments and blank lines
go, identifiers become ``V`` and literals ``L``, so renaming variables changes nothing. Every k-gram of
the token stream is hashed and winnowing keeps the smallest hash of each window; two answers are compared
by the Jaccard index of their fingerprint sets, so lines moved around still share their fingerprints.
Fingerprints of the release's stub and of the key are dropped first: every correct answer shares them.
Nothing here changes a grade: it only lists pairs for the instructor to look at.
"""
import io
import keyword
import tokenize
import zlib
from dataclasses import dataclass

K = 5  # tokens per k-gram
WINDOW = 4  # k-grams per winnowing window: a match of K + WINDOW - 1 tokens is always seen
THRESHOLD = 0.5  # Jaccard index from which a pair is listed
MIN_FINGERPRINTS = 6  # fewer own fingerprints than this: too little code to call it copied

SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


@dataclass
class Match:
    """Two students whose answer to ``grade_id`` share ``score`` of their fingerprints."""
    grade_id: str
    a: str
    b: str
    score: float
    lines_a: set  # 1-based line numbers of a's code that hold shared fragments
    lines_b: set


def tokens(code: str) -> list[tuple[str, int]]:
    """Normalised tokens of ``code`` with their line numbers; code that does not tokenise keeps what came before."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in SKIP:
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                text = "V"
            elif tok.type in (tokenize.NUMBER, tokenize.STRING):
                text = "L"
            else:
                text = tok.string
            out.append((text, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def fingerprints(code: str) -> dict[int, set]:
    """Winnowed k-gram hashes of ``code`` -> the lines each spans."""
    toks = tokens(code)
    grams = [(zlib.crc32(" ".join(t for t, _ in toks[i:i + K]).encode()), {line for _, line in toks[i:i + K]})
             for i in range(len(toks) - K + 1)]
    kept = {}
    for i in range(max(len(grams) - WINDOW + 1, 1 if grams else 0)):
        h, lines = min(grams[i:i + WINDOW], key=lambda g: g[0])
        kept.setdefault(h, set()).update(lines)
    return kept


def similar_answers(answers: dict[str, dict[str, str]], shared: dict[str, list[str]],
                    threshold: float = THRESHOLD) -> list[Match]:
    """Pairs of students whose answers look copied, most similar first.

    ``answers``: student -> grade_id -> code; ``shared``: grade_id -> code everyone may share (stub, key)."""
    matches = []
    for gid in sorted({g for cells in answers.values() for g in cells}):
        common = set().union(*(fingerprints(code) for code in shared.get(gid, [])))
        prints = {}
        for sid, cells in answers.items():
            own = {h: lines for h, lines in fingerprints(cells.get(gid, "")).items() if h not in common}
            if len(own) >= MIN_FINGERPRINTS:
                prints[sid] = own
        holders = {}
        for sid, own in prints.items():
            for h in own:
                holders.setdefault(h, []).append(sid)
        together = {}
        for sids in holders.values():
            for i, a in enumerate(sids):
                for b in sids[i + 1:]:
                    together[a, b] = together.get((a, b), 0) + 1
        for (a, b), n in together.items():
            score = n / len(prints[a].keys() | prints[b].keys())
            if score >= threshold:
                both = prints[a].keys() & prints[b].keys()
                a, b = sorted((a, b))
                matches.append(Match(gid, a, b, score, set().union(*(prints[a][h] for h in both)),
                                     set().union(*(prints[b][h] for h in both))))
    return sorted(matches, key=lambda m: (-m.score, m.grade_id, m.a, m.b))


def clusters(matches: list[Match]) -> list[list[str]]:
    """Groups of students linked by any listed pair (of any cell), largest first."""
    group = {}
    for m in matches:
        merged = group.get(m.a, {m.a}) | group.get(m.b, {m.b})
        for sid in merged:
            group[sid] = merged
    unique = {frozenset(g) for g in group.values()}
    return sorted((sorted(g) for g in unique if len(g) > 2), key=lambda g: (-len(g), g))


def answer_cells(nb) -> dict[str, str]:
    """grade_id -> source of every answer code cell of a notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
            and c.metadata["nbgrader"].get("grade_id")}
