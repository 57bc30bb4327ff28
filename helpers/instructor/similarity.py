"""Answers that look copied: winnowed fingerprints of normalised code (the MOSS approach).

Each answer cell (nbgrader ``solution: true``) is tokenised by one regular expression; comments and blank lines
go, identifiers become ``V`` and literals ``L``, so renaming variables changes nothing. Every k-gram of
the token stream is hashed and winnowing keeps the smallest hash of each window; two answers are compared
by the Jaccard index of their fingerprint sets, so lines moved around still share their fingerprints.
Fingerprints of the release's stub and of the key are dropped first: every correct answer shares them;
so are those a large part of the class holds (idioms), which also keeps a class of hundreds fast.
Nothing here changes a grade: it only lists pairs for the instructor to look at.
"""
import bisect
import functools
import hashlib
import itertools
import keyword
import operator
import re
import token
import tokenize
from collections import Counter
from dataclasses import dataclass

K = 5  # tokens per k-gram
WINDOW = 4  # k-grams per winnowing window: a match of K + WINDOW - 1 tokens is always seen
THRESHOLD = 0.5  # Jaccard index from which a pair is listed
MIN_FINGERPRINTS = 6  # fewer own fingerprints than this: too little code to call it copied
COMMON_SHARE, COMMON_MIN = 0.1, 10  # a fingerprint more students hold than both is an idiom, not a copy

# a string literal, one quote kind per alternative; a backslash escapes the next character, even a newline
STRING = "|".join((r"'''(?:\\.|[^\\])*?'''", r'"""(?:\\.|[^\\])*?"""', r"'(?:\\.|[^\\'\n])*'", r'"(?:\\.|[^\\"\n])*"'))
OPERATORS = "|".join(map(re.escape, sorted(token.EXACT_TOKEN_TYPES, reverse=True)))  # longest first
# one compiled pattern over the whole cell, many times faster than tokenize; blanks and comments match no group
TOKEN = re.compile("|".join((
    r"\s+|\\\r?\n|#[^\r\n]*", rf"(?P<literal>[rRbBuUfF]{{0,2}}(?:{STRING})|{tokenize.Number})",
    rf"(?P<keyword>\b(?:{'|'.join(keyword.kwlist)})\b)", r"(?P<name>\w+)", rf"(?P<other>{OPERATORS}|\S)")), re.DOTALL)
NEWLINE = re.compile("\n")
NORMALISED = {"literal": "L", "name": "V"}  # what a token of that kind becomes; any other token stays as written


@dataclass
class Match:
    """Two students whose answer to ``grade_id`` share ``score`` of their fingerprints."""
    grade_id: str
    a: str
    b: str
    score: float
    lines_a: set  # 1-based line numbers of a's code that hold shared fragments
    lines_b: set


def tokens(code: str) -> tuple[list[str], list[int]]:
    """The normalised tokens of ``code`` and where each starts in it; a character no token matches stays as it is."""
    texts, starts = [], []
    for m in TOKEN.finditer(code):
        kind = m.lastgroup
        if kind:
            texts.append(NORMALISED.get(kind) or m.group())
            starts.append(m.start())
    return texts, starts


@functools.lru_cache(maxsize=1 << 16)  # a class writes far fewer distinct normalised k-grams than it writes k-grams
def _hash(gram: tuple[str, ...]) -> int:
    """A fixed hash, not hash(): the same answers give the same fingerprints in every run; shifted left to leave
    room for a position."""
    return int.from_bytes(hashlib.blake2b(" ".join(gram).encode(), digest_size=4).digest(), "big") << 32


def fingerprints(code: str) -> dict[int, tuple[int, int]]:
    """Winnowed k-gram hashes of ``code`` -> the first and last line of the k-gram."""
    texts, starts = tokens(code)
    # each hash with its position in the low bits: the smallest of a window is its leftmost smallest hash
    keyed = list(map(operator.or_, map(_hash, zip(*(texts[j:] for j in range(K)))), itertools.count()))
    smallest = map(min, zip(*(keyed[j:] for j in range(min(WINDOW, len(keyed))))))  # a short cell: one window
    newlines = [m.start() for m in NEWLINE.finditer(code)]
    kept = {}
    for pick in dict.fromkeys(smallest):
        j = pick & 0xFFFFFFFF
        if pick >> 32 not in kept:
            kept[pick >> 32] = (bisect.bisect(newlines, starts[j]) + 1, bisect.bisect(newlines, starts[j + K - 1]) + 1)
    return kept


def _lines(spans) -> set:
    return {line for first, last in spans for line in range(first, last + 1)}


def similar_answers(answers: dict[str, dict[str, str]], shared: dict[str, list[str]],
                    threshold: float = THRESHOLD) -> list[Match]:
    """Pairs of students whose answers look copied, most similar first.

    ``answers``: student -> grade_id -> code; ``shared``: grade_id -> code everyone may share (stub, key)."""
    matches = []
    computed = {}  # code -> its fingerprints: many students hand in the same stub or the same answer
    for gid in sorted({g for cells in answers.values() for g in cells}):
        common = set().union(*(fingerprints(code) for code in shared.get(gid, [])))
        prints = {}
        for sid, cells in answers.items():
            code = cells.get(gid, "")
            if code not in computed:
                computed[code] = fingerprints(code)
            own = {h: lines for h, lines in computed[code].items() if h not in common}
            if len(own) >= MIN_FINGERPRINTS:
                prints[sid] = own
        holders = {}
        for sid, own in prints.items():
            for h in own:
                holders.setdefault(h, []).append(sid)
        common_idiom = max(COMMON_SHARE * len(prints), COMMON_MIN)
        rare = {h: sids for h, sids in holders.items() if len(sids) <= common_idiom}
        for a, own in prints.items():
            for b, n in Counter(itertools.chain.from_iterable(rare.get(h, ()) for h in own)).items():
                # n over the union is at most n over the larger set: most pairs stop here, before any union
                if b <= a or n / max(len(own), len(prints[b])) < threshold:
                    continue
                score = n / len(own.keys() | prints[b].keys())  # the idioms left out of n count against
                if score >= threshold:
                    both = own.keys() & prints[b].keys()
                    matches.append(Match(gid, a, b, score, _lines(own[h] for h in both),
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
    """grade_id -> source of every answer code cell of a notebook (an nbformat node or the plain dict of its JSON)."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in nb["cells"]
            if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")
            and c["metadata"]["nbgrader"].get("grade_id")}
