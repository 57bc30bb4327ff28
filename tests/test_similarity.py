"""Answers that look copied: a renamed, reordered copy is found; independent answers are not flagged."""
import os
import subprocess
import sys

from helpers.instructor import similarity

STUB = "def normalizar(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
KEY = "def normalizar(x):\n    media = x.mean()\n    desv = x.std()\n    return (x - media) / desv\n"

ORIGINAL = """def normalizar(x):
    total = 0.0
    for valor in x:
        total += valor
    media = total / len(x)
    cuadrados = [(valor - media) ** 2 for valor in x]
    desviacion = (sum(cuadrados) / len(x)) ** 0.5
    resultado = [(valor - media) / desviacion for valor in x]
    return resultado
"""
# the same code: other names, other comments, two independent lines swapped
COPY = """def normalizar(datos):
    # mi versión
    acumulado = 0.0
    for d in datos:
        acumulado += d

    promedio = acumulado / len(datos)
    cuad = [(d - promedio) ** 2 for d in datos]
    sigma = (sum(cuad) / len(datos)) ** 0.5
    salida = [(d - promedio) / sigma for d in datos]
    return salida
"""

INDEPENDENT = [
    KEY,
    "def normalizar(x):\n    return (x - x.mean()) / x.std()\n",
    "def normalizar(x):\n    m, s = x.mean(), x.std()\n    return (x - m) / s\n",
    "import torch\ndef normalizar(x):\n    return torch.nn.functional.normalize(x - x.mean(), dim=0) * len(x) ** 0.5\n",
    "def normalizar(x):\n    centrado = x - x.mean()\n    return centrado / centrado.pow(2).mean().sqrt()\n",
    "def normalizar(x):\n    import numpy as np\n    a = np.asarray(x, dtype=float)\n    return (a - np.mean(a)) / np.std(a)\n",
    "def normalizar(x):\n    media = sum(x) / len(x)\n    var = sum((v - media) ** 2 for v in x) / len(x)\n    return [(v - media) / var ** 0.5 for v in x]\n",
    "def normalizar(x):\n    n = len(x)\n    mu = 0\n    i = 0\n    while i < n:\n        mu = mu + x[i]\n        i += 1\n    mu /= n\n"
    "    var = 0\n    for i in range(n):\n        var += (x[i] - mu) * (x[i] - mu)\n    return [(e - mu) / (var / n) ** 0.5 for e in x]\n",
    "def normalizar(x):\n    mu = x.mean(dim=0, keepdim=True)\n    sd = x.std(dim=0, keepdim=True, unbiased=False)\n"
    "    if (sd == 0).any():\n        raise ValueError('desviación nula')\n    return x.sub(mu).div(sd)\n",
    "from statistics import mean, pstdev\n\ndef normalizar(x):\n    valores = list(x)\n    mu, sigma = mean(valores), pstdev(valores)\n"
    "    return list(map(lambda v: (v - mu) / sigma, valores))\n",
]


def test_renamed_reordered_copy_is_found():
    answers = {f"indep_{i}": {"normalizar": code} for i, code in enumerate(INDEPENDENT)}
    answers |= {"ana": {"normalizar": ORIGINAL}, "beto": {"normalizar": COPY}}
    matches = similarity.similar_answers(answers, {"normalizar": [STUB, KEY]})
    assert [(m.a, m.b) for m in matches] == [("ana", "beto")], matches
    assert matches[0].score > 0.7
    assert {4, 5, 6, 7, 8} <= matches[0].lines_a  # the shared fragments, highlighted in the page


def test_independent_correct_answers_are_not_flagged():
    answers = {f"indep_{i}": {"normalizar": code} for i, code in enumerate(INDEPENDENT)}
    assert similarity.similar_answers(answers, {"normalizar": [STUB, KEY]}) == []


def test_the_key_is_not_a_copy():
    """Everyone who wrote the key's answer shares only excluded fingerprints."""
    answers = {s: {"normalizar": KEY + "\n# hecho por " + s} for s in ("ana", "beto", "carla")}
    assert similarity.similar_answers(answers, {"normalizar": [STUB, KEY]}) == []


def test_clusters_join_pairs():
    ms = [similarity.Match("g", "a", "b", 1, set(), set()), similarity.Match("g", "b", "c", 1, set(), set()),
          similarity.Match("g", "x", "y", 1, set(), set())]
    assert similarity.clusters(ms) == [["a", "b", "c"]]


def test_an_idiom_most_of_the_class_writes_is_no_copy():
    """A block a dozen students share (a plotting recipe from the lecture) links none of them; the same block
    shared by two would."""
    idiom = ("\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(1, 2, figsize=(8, 3))\n"
             "ax[0].plot(historia['perdida'], label='entrenamiento')\nax[0].legend()\nax[1].imshow(x[0, 0], cmap='gray')\n"
             "plt.tight_layout()\nplt.show()\n")
    codes = INDEPENDENT + ["def normalizar(x):\n    return (x - min(x)) / (max(x) - min(x))\n",
                           "def normalizar(x):\n    return x / abs(x).max()\n"]
    answers = {f"indep_{i}": {"normalizar": code + idiom} for i, code in enumerate(codes)}
    assert similarity.similar_answers(answers, {"normalizar": [STUB, KEY]}) == []
    two = {s: answers[s] for s in ("indep_1", "indep_2")}
    assert [(m.a, m.b) for m in similarity.similar_answers(two, {"normalizar": [STUB, KEY]})] == [("indep_1", "indep_2")]


def test_tokens_normalise_names_literals_and_comments():
    """A '#' inside a string is no comment; a string over several lines is one literal; keywords stay."""
    code = 'texto = """a\n# b"""  # comentario\nfor i in range(3): x += f"#{i}"\n'
    texts, starts = similarity.tokens(code)
    assert texts == ["V", "=", "L", "for", "V", "in", "V", "(", "L", ")", ":", "V", "+=", "L"], texts
    assert code[starts[3]:].startswith("for")


def test_fingerprints_are_the_same_in_every_run():
    """A fixed hash, not Python's salted one: the page lists the same pairs however often it is rebuilt."""
    script = "from helpers.instructor import similarity; print(sorted(similarity.fingerprints(open(0).read())))"
    runs = {subprocess.run([sys.executable, "-c", script], input=ORIGINAL, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1, runs
