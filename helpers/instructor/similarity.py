"""Answers that look copied: winnowed fingerprints of normalised code (the MOSS approach).

Each answer cell (nbgrader ``solution: true``) is tokenised with :mod:`tokenize`; comments and blank lines
go, identifiers become ``V`` and literals ``L``, so renaming variables changes nothing. Every k-gram of
the token stream is hashed and winnowing keeps the smallest hash of each window; two answers are compared
by the Jaccard index of their fingerprint sets, so lines moved around still share their fingerprints.
Fingerprints of the release's stub and of the key are dropped first: every correct answer shares them;
so are those a large part of the class holds (idioms), which also keeps a class of hundreds fast.
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
COMMON_SHARE, COMMON_MIN = 0.1, 10  # a fingerprint more students hold than both is an idiom, not a copy

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


def fingerprints(code: str) -> dict[int, tuple[int, int]]:
    """Winnowed k-gram hashes of ``code`` -> the first and last line of the k-gram."""
    toks = tokens(code)
    texts = [t for t, _ in toks]
    hashes = [hash(gram) for gram in zip(*(texts[j:] for j in range(K)))]
    kept = {}
    for i in range(max(len(hashes) - WINDOW + 1, 1 if hashes else 0)):
        window = hashes[i:i + WINDOW]
        smallest = min(window)
        j = i + window.index(smallest)
        kept.setdefault(smallest, (toks[j][1], toks[j + K - 1][1]))
    return kept


def _lines(spans) -> set:
    return {line for first, last in spans for line in range(first, last + 1)}


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
        common_idiom = max(COMMON_SHARE * len(prints), COMMON_MIN)
        together = {}
        for sids in holders.values():
            if len(sids) > common_idiom:
                continue
            for i, a in enumerate(sids):
                for b in sids[i + 1:]:
                    together[a, b] = together.get((a, b), 0) + 1
        for (a, b), n in together.items():
            score = n / len(prints[a].keys() | prints[b].keys())  # the idioms skipped above count against
            if score >= threshold:
                both = prints[a].keys() & prints[b].keys()
                a, b = sorted((a, b))
                matches.append(Match(gid, a, b, score, _lines(prints[a][h] for h in both),
                                     _lines(prints[b][h] for h in both)))
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
