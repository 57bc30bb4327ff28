"""Student content is inert where it is rendered: the feedback page and formgrader's view of the
autograded notebook. Unit tests on synthetic cells, then the pages themselves in headless Chromium:
each payload adds an element with a marker id if its script runs, and a control page rendered without
:func:`inert` shows that the harness does see them run."""
import copy
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from helpers.course import lab_notebook
from helpers.instructor import inert, nbgrader_io
from helpers.instructor.feedback import write_feedback

LAB = "lab1_convolutions"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def script(marker: str) -> str:
    """JavaScript, without quotes or spaces, that adds ``<div id="xss-<marker>">`` to the page."""
    return (f"d=document.createElement(/div/.source);d.id=/xss-{marker}/.source;"
            "document.body.appendChild(d)")


def hostile_outputs() -> list:
    return [
        new_output("display_data", data={"text/html": f'<img src="nada.png" onerror="{script("html")}">',
                                         "text/plain": "<IPython.core.display.HTML object>"}),
        new_output("display_data", data={"application/javascript": script("js")}),
        new_output("display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg">'
                                                          f'<script>{script("svg")}</script></svg>'}),
        new_output("display_data", data={"text/markdown": f'<img src="nada.png" onerror="{script("mdout")}">'}),
        new_output("display_data", data={"image/png": "AAAA"},
                   metadata={"image/png": {"width": f"1 onerror={script('width')}"}}),
        new_output("display_data", data={"image/png": f'AAAA" onerror="{script("quote")}'}),
        new_output("stream", name="stdout", text=f"<script>{script('stream')}</script>"),
        new_output("execute_result", data={"text/plain": "42", "text/html": f"<script>{script('result')}</script>"},
                   execution_count=3),
    ]


HOSTILE_ANSWER = (f'Mi respuesta <img src="nada.png" onerror="{script("answer")}"> '
                  f"<script>{script('answerscript')}</script> y [un enlace](javascript:alert(1)).")


def hostile_notebook(release):
    """``release`` as a student could hand it in: hostile outputs in a cell before the first test, a
    hostile written answer, a raw HTML cell and widget state."""
    nb = copy.deepcopy(release)
    first_test = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade")
                      and c.cell_type == "code")
    cell = new_code_cell("from IPython.display import HTML, Javascript, SVG, Markdown, display")
    cell.outputs = hostile_outputs()
    nb.cells.insert(first_test - 1, cell)
    answer = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = HOSTILE_ANSWER
    nb.cells.append(new_raw_cell(f'<img src="nada.png" onerror="{script("raw")}">',
                                 metadata={"raw_mimetype": "text/html"}))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                             "version_minor": 0}}
    return nb


@pytest.fixture(scope="module")
def release():
    return nbgrader_io.read_notebook(lab_notebook("release", LAB))


# ---------------------------------------------------------------- the inert copy, cell by cell

def test_outputs_keep_only_text_and_valid_images():
    kept = inert.inert_outputs(hostile_outputs() + [
        new_output("display_data", data={"image/png": PNG}, metadata={"image/png": {"width": 40, "height": "9 x"}})])
    assert [o.output_type for o in kept] == ["display_data"] * 6 + ["stream", "execute_result", "display_data"]
    shown = [dict(o.get("data", {})) for o in kept]
    assert shown[0] == {"text/plain": "<IPython.core.display.HTML object>"}  # its text/html is gone
    assert shown[1:6] == [{"text/plain": inert.WITHHELD}] * 5  # JS, SVG, markdown, broken or forged PNGs
    assert kept[6].text == f"<script>{script('stream')}</script>"  # streams stay text (the template escapes them)
    assert shown[7] == {"text/plain": "42"} and kept[7].execution_count == 3
    assert shown[8] == {"image/png": PNG} and dict(kept[8].metadata) == {"image/png": {"width": 40}}


def test_base64_is_checked_before_it_goes_into_an_attribute():
    assert inert.valid_base64(PNG[:20] + "\n" + PNG[20:], inert.IMAGES["image/png"]) == PNG
    assert inert.valid_base64("AAAA") == "AAAA" and inert.valid_base64("AAAA", inert.IMAGES["image/png"]) is None
    for bad in ('AAAA"onerror="x', "AAA", "AA AA", "", ["AAAA", '"'], None):
        assert inert.valid_base64(bad) is None, bad


@pytest.mark.parametrize("source", [
    "Una respuesta con **negrita**, `x < 3`, $a<b$ y [un enlace](https://pytorch.org).",
    "| capa | salida |\n|:--|--:|\n| conv | 55 |",
    "Texto con <b>etiquetas</b> sencillas<br>y un bloque:\n\n```\n<script>en un bloque de código</script>\n```",
])
def test_plain_markdown_answers_stay_as_written(source):
    assert inert.inert_markdown(source) == source


@pytest.mark.parametrize("source, shown", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<img src=x onerror="alert(1)"> y *cursiva*', "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; y <em>cursiva</em>"),
    ("[pulsa](javascript:alert(1))", '<a href="#harmful-link">pulsa</a>'),
    ("[pulsa](&#106;avascript:alert(1))", '<a href="#harmful-link">pulsa</a>'),
    ("<!-- --!><img src=x onerror=alert(1)> -->", "&lt;!-- --!&gt;&lt;img"),
    ("<svg><script>alert(1)</script></svg>", "&lt;svg&gt;&lt;script&gt;"),
    ("$$\\href{javascript:alert(1)}{x}$$", "\\mathrm{href}{javascript:alert(1)}"),
])
def test_active_markdown_is_escaped_and_stays_so(source, shown):
    made = inert.inert_markdown(source)
    assert made != source and shown in made
    assert inert.plain_html(made) and inert.inert_markdown(made) == made


def test_plain_html_refuses_what_a_browser_could_run():
    assert inert.plain_html('<p>a <a href="https://x.org/?a=1&amp;b=2">b</a> <img src="data:image/png;base64,AAAA"></p>')
    for html in ('<p onclick="x">a</p>', "<a href=javascript:x>a</a>", '<a href=" javascript:x">a</a>',
                 "<iframe src=x></iframe>", "<style>*{}</style>", "<!-- x -->", "<p>< img</p>",
                 '<img src="data:text/html;base64,AAAA">', '<span style="background:url(x)">a</span>'):
        assert not inert.plain_html(html), html


def test_the_notebook_keeps_the_release_and_escapes_the_rest(release):
    nb = hostile_notebook(release)
    nb.cells[3].metadata["nbgrader"] = {"grade_id": 'x" onfocus="alert(1)', "solution": True}
    nb.cells[3].id = 'a" b'
    made = inert.inert(nb, release)
    assert [c.source for c in made.cells if c.source in {r.source for r in release.cells}] == \
        [c.source for c in nb.cells if c.source in {r.source for r in release.cells}]  # the release as it was
    assert "widgets" not in made.metadata and made.metadata["kernelspec"] == release.metadata["kernelspec"]
    answer = next(c for c in made.cells if "Mi respuesta" in c.source)
    assert "<img" not in answer.source and "&lt;img" in answer.source and "javascript:" not in answer.source
    raw = made.cells[-1]
    assert raw.source.startswith("&lt;img") and "raw_mimetype" not in raw.metadata
    assert "nbgrader" not in made.cells[3].metadata and re.fullmatch(r"[\w-]+", made.cells[3].id)
    assert inert.inert(made, release) == made  # nothing left to change
    assert nb.cells[-1].source.startswith("<img")  # the notebook handed in is left alone


# ---------------------------------------------------------------- in a real browser

def needs_chromium(test):
    """A test in a real browser: end to end (``slow``), and skipped where Chromium is not installed."""
    return pytest.mark.slow(pytest.mark.skipif(CHROMIUM is None, reason="Chromium no está instalado (apt-get install "
                                                                        "chromium): sin él no se comprueba en un navegador")(test))


def fired(page: Path) -> set[str]:
    """The markers that scripts added to ``page`` once Chromium (headless, offline) loaded it."""
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                              "--disable-component-update", "--disable-sync", "--no-first-run",
                              f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom",
                              page.as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert "</body>" in dom, "Chromium no devolvió la página"
    return set(re.findall(r'id="xss-(\w+)"', dom)) | ({"javascript-link"} if 'href="javascript:' in dom else set())


#: Appended to a rendered page by a test (never by the course): marks each image the browser decoded, in
#: order, with its width (``xss-figura0x480``), so that :func:`fired` reports the figures that show.
IMAGE_PROBE = ("<script>window.addEventListener('load',()=>{let n=0;for(const i of document.images){if(i.naturalWidth>0)"
               "{const d=document.createElement('div');d.id='xss-figura'+(n++)+'x'+i.naturalWidth;"
               "document.body.appendChild(d);}}});</script></body>")


def formgrade_page(notebook: Path, out: Path) -> Path:
    """``notebook`` rendered as formgrader renders a submission (its exporter, template and resources)."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"  # as FormgradeExtension.build_extra_config
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": LAB, "notebook_id": LAB, "submission_id": "abc", "index": 0, "total": 1,
                 "base_url": "", "student": "ana", "last_name": "García", "first_name": "Ana",
                 "notebook_path": f"/autograded/ana/{LAB}/{LAB}.ipynb"}
    html, _ = HTMLExporter(config=config).from_filename(str(notebook), resources=resources)
    out.write_text(html)
    return out


#: What runs in a page rendered from the hostile notebook as it is (nbconvert 7.17, Chromium).
RUNS_UNSANITISED = {"html", "mdout", "width", "answer", "answerscript", "result", "javascript-link"}


@needs_chromium
def test_control_the_browser_sees_the_payloads_run(release, tmp_path):
    """Without :func:`inert` the payloads run, in nbconvert's page and in formgrader's: the browser
    checks below can fail."""
    from nbconvert import HTMLExporter

    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(hostile_notebook(release), path)
    plain = tmp_path / "sin_limpiar.html"
    plain.write_text(HTMLExporter(template_name="classic").from_filename(str(path))[0])
    assert fired(plain) >= RUNS_UNSANITISED
    assert fired(formgrade_page(path, tmp_path / "formgrader_sin_limpiar.html")) >= RUNS_UNSANITISED


@needs_chromium
def test_formgrader_shows_the_autograded_notebook_inert(release, tmp_path):
    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(hostile_notebook(release), path)
    inert.make_file_inert(path, release)
    page = formgrade_page(path, tmp_path / "formgrader.html")
    assert fired(page) == set()
    assert "Mi respuesta" in page.read_text() and "&lt;script&gt;" in page.read_text()  # shown, as text


@needs_chromium
def test_the_feedback_page_runs_nothing_of_the_student(release, tmp_path):
    executed = tmp_path / f"{LAB}.ipynb"
    nbformat.write(hostile_notebook(release), executed)
    notes = [f'celda «<img src="nada.png" onerror="{script("note")}">»: reparada']  # names the student chose
    page = write_feedback(LAB, "ana", executed, {}, notes, tmp_path / "feedback.html")
    assert fired(page) == set()
    html = page.read_text()
    assert "Mi respuesta" in html and "&lt;IPython.core.display.HTML object&gt;" in html
