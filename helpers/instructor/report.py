"""The class at a glance: ``informe_<lab>.html``, one self-contained page for the instructor.

Histograms of the scores, each test with how many passed and its most frequent failure messages, one
row per student with a link to their feedback, the review list of the text report at the top, and the
answers that look copied (:mod:`similarity`). Figures are embedded PNG; nothing is fetched from the
network. Every text that comes from a student (names, messages, code) is HTML-escaped.
"""
import base64
import csv
import io
import json
from collections import Counter
from html import escape
from pathlib import Path
from urllib.parse import quote

from . import exercises, similarity
from .nbgrader_io import read_notebook
from .gradebook import gradebook_path, opened, read_grades, read_state, submissions_with_grades
from ..course import lab_notebook
from .vocabulary import Missing

TOP_MESSAGES = 3  # failure messages listed per test
MESSAGE_CHARS = 200

STYLE = """body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:70em;line-height:1.4}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border-bottom:1px solid #ccc;padding:.3em;text-align:left;
vertical-align:top}.scroll{overflow-x:auto}img{max-width:100%;height:auto}.review{background:#fff3cd;padding:.5em}
pre{white-space:pre-wrap;word-break:break-word;font-size:.85em;margin:0}mark{background:#ffd54f}
.pair{display:flex;flex-wrap:wrap;gap:1em}.pair>div{flex:1 1 20em;min-width:0;border:1px solid #ccc;padding:.5em}"""


def _histogram(values: list[float], top: float, title: str) -> str:
    """An ``<img>`` with a histogram of ``values`` as an embedded PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(values, bins=min(20, max(int(top), 1)), range=(0, top or 1), color="#4a7fb5", edgecolor="white")
    ax.set(title=title, xlabel="puntos", ylabel="estudiantes")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return f'<img alt="{escape(title)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _cells(lab: str, workdir: Path) -> tuple[dict, dict]:
    """From the gradebook: (student, grade_id) -> (score, max) of each code test, and student -> hours late."""
    scores, late = {}, {}
    with opened(workdir) as gb:
        for sub in submissions_with_grades(gb, lab):
            late[sub.student.id] = sub.total_seconds_late / 3600
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.cell.cell_type == "code":
                        scores[sub.student.id, g.name] = (g.score, g.max_score)
    return scores, late


def failure_messages(executed) -> dict[str, list[str]]:
    """grade_id -> the error message of each graded cell of an autograded notebook that failed."""
    found = {}
    for cell in executed["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        for out in cell.get("outputs", []) if gid else []:
            if out.get("output_type") == "error":
                text = f"{out.get('ename', '')}: {out.get('evalue', '')}".strip(": ")
                found.setdefault(gid, []).append(text.splitlines()[0][:MESSAGE_CHARS] if text else "error")
    return found


def _exported(lab: str, workdir: Path) -> list[dict]:
    """The rows of ``course export``'s final grades, or none before the first export."""
    path = workdir / "exportar" / f"notas_finales_{lab}.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _final_scores(lab: str, workdir: Path) -> list[float]:
    return [float(r["nota_final"]) for r in _exported(lab, workdir) if r.get("nota_final")]


def _exported_lateness(lab: str, workdir: Path) -> dict[str, float]:
    """Hours late by the export's submission times (a platform's own, where it gave them): student -> hours."""
    return {r["estudiante"]: float(r["retraso_horas"]) for r in _exported(lab, workdir) if r.get("retraso_horas")}


def _review_list(lab: str, workdir: Path) -> str:
    """The top of the text report (what to review, doubtful cases), before the list of files."""
    path = workdir / f"informe_{lab}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()[2:] if path.exists() else []
    top = []
    for line in lines:
        if line.startswith("- "):
            break
        top.append(line)
    text = "\n".join(top).strip()
    return f'<div class="review"><pre>{escape(text)}</pre></div>' if text else "<p>Nada que revisar a mano.</p>"


def _side_by_side(match: similarity.Match, answers: dict) -> str:
    cols = []
    for sid, lines in ((match.a, match.lines_a), (match.b, match.lines_b)):
        code = answers[sid][match.grade_id].splitlines()
        body = "\n".join(f"<mark>{escape(l)}</mark>" if i in lines else escape(l) for i, l in enumerate(code, 1))
        cols.append(f"<div><strong>{escape(sid)}</strong><pre>{body}</pre></div>")
    return f'<div class="pair">{"".join(cols)}</div>'


def _load(path: Path) -> dict:
    """A notebook ``course grade`` wrote (already checked and cleaned when it came in), as plain dicts: neither
    validation nor nbformat's attribute nodes, which would cost more than the whole report in a class of hundreds."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"])  # the file may hold it as a list of lines
    return nb


def copied_answers(lab: str, workdir: Path) -> tuple[list[similarity.Match], dict]:
    """Pairs of answers that look copied among the submitted notebooks, and those answers."""
    answers = {}
    for path in sorted((workdir / "submitted").glob(f"*/{lab}/{lab}.ipynb")):
        answers[path.parent.parent.name] = similarity.answer_cells(_load(path))
    shared = {}
    for folder in ("release", "source"):
        for gid, code in similarity.answer_cells(read_notebook(lab_notebook(folder, lab))).items():
            shared.setdefault(gid, []).append(code)
    return similarity.similar_answers(answers, shared), answers


def write_report(lab: str, workdir: Path) -> Path:
    """Write ``informe_<lab>.html`` in ``workdir`` (``calificaciones/<lab>``) and return its path."""
    workdir = Path(workdir)
    if not gradebook_path(workdir).exists():
        raise Missing(f"No hay calificaciones de {lab} en {workdir}: califica antes con course grade")
    grades = read_grades(lab, workdir)
    scores, late = _cells(lab, workdir)
    late.update(_exported_lateness(lab, workdir))  # the platform's submission times, once exported
    titles = exercises.titles(read_notebook(lab_notebook("release", lab)))
    parts = [f"<h1>Informe de la clase: {escape(lab)}</h1>", f"<p>{len(grades)} estudiantes calificados.</p>",
             "<h2>Conviene revisar</h2>", _review_list(lab, workdir), "<h2>Puntuaciones</h2>"]
    top = grades[0].max_score if grades else 0
    parts.append(_histogram([g.score for g in grades if g.score is not None], top, "Puntos automáticos"))
    finals = _final_scores(lab, workdir)
    if finals:
        parts.append(_histogram(finals, max(max(finals), top), "Notas finales (exportadas)"))
    parts += _tests_section(lab, workdir, grades, scores, titles)
    parts += _students_section(lab, workdir, grades, late)
    parts += _copies_section(lab, workdir, titles)
    page = (f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Informe de {escape(lab)}</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    path = workdir / f"informe_{lab}.html"
    path.write_text(page, encoding="utf-8")
    return path


def _tests_section(lab: str, workdir: Path, grades, scores: dict, titles: dict) -> list[str]:
    """Each test: how many passed, partly, failed, and its most frequent failure messages."""
    messages = {}
    for g in grades:
        executed = lab_notebook(f"autograded/{g.student}", lab, workdir)
        if executed.exists():
            for gid, texts in failure_messages(_load(executed)).items():
                messages.setdefault(gid, Counter()).update(texts)
    parts = ["<h2>Cada prueba</h2>", '<div class="scroll"><table><tr><th>prueba</th><th>ejercicio</th>'
             "<th>superada</th><th>a medias</th><th>fallida</th><th>fallos más frecuentes</th></tr>"]
    for gid in sorted({gid for _, gid in scores}, key=lambda gid: (list(titles).index(gid) if gid in titles else 1e9, gid)):
        got = [scores[s, gid] for s, g in scores if g == gid]
        passed = sum(1 for s, m in got if s >= m)
        failed = sum(1 for s, m in got if s <= 0 < m)
        common = "".join(f"<li>{escape(t)} ({n})</li>" for t, n in messages.get(gid, Counter()).most_common(TOP_MESSAGES))
        parts.append(f"<tr><td>{escape(gid)}</td><td>{escape(titles.get(gid, ''))}</td><td>{passed}</td>"
                     f"<td>{len(got) - passed - failed}</td><td>{failed}</td><td><ul>{common}</ul></td></tr>")
    return parts + ["</table></div>"]


def _students_section(lab: str, workdir: Path, grades, late: dict) -> list[str]:
    """One row per student: points, status, what to review, lateness, and a link to their feedback."""
    state = read_state(workdir)
    parts = ["<h2>Cada estudiante</h2>", '<div class="scroll"><table><tr><th>estudiante</th><th>puntos</th>'
             "<th>estado</th><th>revisar</th><th>retraso</th><th>retroalimentación</th></tr>"]
    for g in grades:
        feedback = Path("feedback") / g.student / lab / f"{lab}.html"
        link = f'<a href="{escape(quote(feedback.as_posix()))}">ver</a>' if (workdir / feedback).exists() else ""
        hours = late.get(g.student, 0)
        parts.append(f"<tr><td>{escape(g.student)}</td><td>{g.score:g} de {g.max_score:g}</td>"
                     f"<td>{escape(g.status_text)}</td><td>{escape(state[g.student].review if g.student in state else '')}</td>"
                     f"<td>{f'{hours:.1f} h' if hours > 0 else ''}</td><td>{link}</td></tr>")
    return parts + ["</table></div>"]


def _copies_section(lab: str, workdir: Path, titles: dict) -> list[str]:
    """The answers that look copied, pair by pair with the shared fragments highlighted, and their groups."""
    matches, answers = copied_answers(lab, workdir)
    parts = ["<h2>Respuestas que parecen copiadas</h2>",
             "<p>Fragmentos comunes tras quitar nombres, literales, comentarios, el enunciado y la clave. "
             "No cambia ninguna nota: compruébalo tú.</p>"]
    groups = similarity.clusters(matches)
    if groups:
        parts.append("<p>Grupos: " + "; ".join(escape(", ".join(g)) for g in groups) + "</p>")
    for m in matches:
        parts.append(f"<h3>{escape(titles.get(m.grade_id, m.grade_id))}: {escape(m.a)} y {escape(m.b)} "
                     f"({m.score:.0%} en común)</h3>" + _side_by_side(m, answers))
    return parts if matches else parts + ["<p>Ninguna.</p>"]
