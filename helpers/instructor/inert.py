"""Make a graded notebook inert: nothing a student wrote or printed runs in the page that shows it.

nbconvert renders a notebook's HTML, JavaScript, SVG and markdown as they are, so a cell that displays
``<img src=x onerror=...>`` or a written answer with ``<script>`` would run in the page of whoever opens
it: the student's feedback page, or formgrader inside the instructor's Jupyter server (where a script
could use the instructor's session). :func:`inert` returns a copy that both can render safely:

- code cells keep streams, errors and, of rich outputs, only ``text/plain`` and PNG/JPEG images whose
  base64 is valid and decodes to such an image (with numeric width and height only); an output with nothing of that says so;
- a markdown cell that is not verbatim from the release (an answer, a cell the student added) stays as
  it is when its rendered HTML holds only plain formatting (paragraphs, lists, tables, code, links to
  ``http(s)``...); otherwise it is rendered once with its HTML escaped and harmful links removed, or,
  failing that, shown as text; its attachments keep only valid PNG/JPEG images;
- a raw cell that is not from the release is shown as text;
- ids and nbgrader ``grade_id`` that templates put in attributes unescaped are checked, and the
  notebook's widget state and language come from the release.

Only what is rendered changes: ``submitted/`` keeps the student's notebook as received and repaired.
Applying :func:`inert` twice gives the same notebook.
"""
import base64
import copy
import html
import re
from html.parser import HTMLParser

import nbformat

#: The rich output types shown; anything else (HTML, JavaScript, SVG, markdown, LaTeX, widgets) is not.
SAFE_OUTPUTS = ("text/plain", "image/png", "image/jpeg")
#: Each image type shown, and how its files start.
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
WITHHELD = "[salida no mostrada: HTML, JavaScript u otro contenido activo]"
AS_TEXT = "*[celda mostrada como texto: contenía HTML o enlaces que no se pueden mostrar con seguridad]*"

#: What a student's markdown may render to and still be shown as written.
TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "u", "s", "del", "sub",
        "sup", "code", "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a",
        "img", "span", "div"}
ATTRIBUTES = {"id", "class", "href", "src", "alt", "title", "align", "start", "colspan", "rowspan", "style"}
_SAFE_URL = re.compile(r"(https?:|mailto:|#|data:image/(png|jpeg);base64,[A-Za-z0-9+/]*={0,2}$|[^:]*$)", re.I)
_SAFE_STYLE = re.compile(r"text-align:\s*(left|right|center);?")  # what mistune writes in table cells
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: MathJax commands that make links out of formulas.
_MATH_LINKS = re.compile(r"\\(href|url)(?![A-Za-z])")


def inert(nb, release):
    """A copy of ``nb`` safe to render as HTML (see the module's docstring); ``release`` is the lab's
    released notebook, whose markdown and raw cells are trusted as they are."""
    nb = copy.deepcopy(nb)
    trusted = {c.source for c in release.cells if c.cell_type in ("markdown", "raw")}
    nb.metadata = {**{k: copy.deepcopy(v) for k, v in release.metadata.items() if k in ("kernelspec", "language_info")},
                   **({"title": str(nb.metadata["title"])} if "title" in nb.metadata else {})}
    for cell in nb.cells:
        if "id" in cell and not _NAME.fullmatch(str(cell.id)):
            cell.id = nbformat.v4.new_code_cell().id
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and not _NAME.fullmatch(str(grade_id)):
            del cell.metadata["nbgrader"]
        if cell.cell_type == "code":
            cell.outputs = inert_outputs(cell.get("outputs", []))
            if not isinstance(cell.get("execution_count"), int):
                cell.execution_count = None
        elif cell.source in trusted and not cell.get("attachments"):
            continue
        elif cell.cell_type == "markdown":
            cell.attachments = _images_only(cell.get("attachments") or {})
            cell.source = inert_markdown(cell.source, cell.attachments)
            if not cell.attachments or "attachment:" not in cell.source:
                cell.pop("attachments")
        else:  # a raw cell: its text, never markup
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
            if "<" in cell.source:  # without one, entities are all it can hold: text (and escaped once only)
                cell.source = html.escape(cell.source)
            cell.pop("attachments", None)
    return nb


def inert_outputs(outputs) -> list:
    """``outputs`` with only text and valid PNG/JPEG images (see :data:`SAFE_OUTPUTS`)."""
    kept = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            kept.append(nbformat.v4.new_output("stream", name=str(out.get("name")) if out.get("name") in (
                "stdout", "stderr") else "stdout", text=_text(out.get("text", ""))))
        elif kind == "error":
            kept.append(nbformat.v4.new_output("error", ename=str(out.get("ename", "")), evalue=str(out.get("evalue", "")),
                                               traceback=[str(t) for t in out.get("traceback", [])]))
        elif kind in ("display_data", "execute_result"):
            data, metadata = {}, {}
            for mime in SAFE_OUTPUTS:
                value = out.get("data", {}).get(mime)
                if value is None:
                    continue
                if mime in IMAGES:
                    value = valid_base64(value, IMAGES[mime])
                    if value is None:
                        continue
                    size = {k: v for k, v in (out.get("metadata", {}).get(mime) or {}).items()
                            if k in ("width", "height") and type(v) in (int, float) and 0 < v < 10**5}
                    if size:
                        metadata[mime] = size
                data[mime] = value if mime in IMAGES else _text(value)
            if not data:
                data = {"text/plain": WITHHELD}
            new = nbformat.v4.new_output(kind, data=data, metadata=metadata)
            if kind == "execute_result":
                count = out.get("execution_count")
                new.execution_count = count if isinstance(count, int) else None
            kept.append(new)
    return kept


def valid_base64(value, start: bytes = b"") -> str | None:
    """``value`` (a string or list of lines) as one line of standard base64 of bytes that begin with
    ``start``, or None if it is not that."""
    text = "".join(value) if isinstance(value, list) else value
    if not isinstance(text, str):
        return None
    text = re.sub(r"[\r\n]", "", text)
    if not text or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return text if data.startswith(start) else None


def inert_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown written by a student, safe to render: unchanged if it renders to plain formatting only,
    else rendered once with its HTML escaped and harmful links removed, else shown as text."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    def render(escape: bool) -> str | None:
        try:
            return MarkdownWithMath(renderer=IPythonRenderer(
                escape=escape, allow_harmful_protocols=not escape, attachments=attachments or {})).render(source)
        except Exception:  # a missing attachment, say
            return None

    rendered = render(escape=False)
    if rendered is not None and plain_html(rendered) and not _MATH_LINKS.search(source):
        return source
    rendered = render(escape=True)
    if rendered is not None:
        # One HTML block (no blank line ends it early), which the exporter's markdown passes on as it is.
        block = '<div class="inert-markdown">' + _MATH_LINKS.sub(r"\\mathrm{\1}", rendered).replace("\n", "&#10;") + "</div>"
        if plain_html(block):
            return block
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", source)), default=0))
    return f"{AS_TEXT}\n\n{fence}text\n{source}\n{fence}"


def plain_html(text: str) -> bool:
    """Whether ``text`` (HTML) holds only the tags and attributes of :data:`TAGS` and :data:`ATTRIBUTES`,
    links and images to harmless places, and nothing a browser might parse otherwise (comments,
    declarations, a ``<`` that starts no tag)."""
    checker = _Checker()
    try:
        checker.feed(text)
        checker.close()
    except Exception:
        return False
    return checker.ok and checker.tags == text.count("<")


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.ok, self.tags = True, 0

    def handle_starttag(self, tag, attrs):
        self.tags += 1
        self.ok &= tag in TAGS and all(self._attribute(tag, name, value) for name, value in attrs)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.tags += 1
        self.ok &= tag in TAGS

    def _attribute(self, tag, name, value) -> bool:
        value = value or ""
        if name not in ATTRIBUTES or any(c in value for c in "<>\"'`\\"):
            return False
        if name in ("href", "src"):
            return bool(_SAFE_URL.match(value.strip())) and not re.search(r"[\x00-\x20]", value)
        if name == "style":
            return bool(_SAFE_STYLE.fullmatch(value.strip()))
        return True

    def handle_data(self, data):
        self.ok &= "<" not in data

    def handle_comment(self, data):
        self.ok = False

    def handle_decl(self, decl):
        self.ok = False

    def handle_pi(self, data):
        self.ok = False

    def unknown_decl(self, data):
        self.ok = False


def _images_only(attachments: dict) -> dict:
    kept = {}
    for name, bundle in attachments.items():
        images = {mime: valid_base64(value, IMAGES[mime]) for mime, value in (bundle or {}).items() if mime in IMAGES}
        images = {mime: value for mime, value in images.items() if value is not None}
        if images and _NAME.fullmatch(re.sub(r"[. ]", "_", str(name))):
            kept[str(name)] = images
    return kept


def _text(value) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def make_file_inert(path, release) -> None:
    """Rewrite the notebook at ``path`` (an autograded one, which formgrader renders in the instructor's
    Jupyter server) as :func:`inert` makes it; the file is replaced whole, never left half written."""
    import os
    from pathlib import Path

    path = Path(path)
    text = nbformat.writes(inert(nbformat.read(path, as_version=4), release))
    tmp = path.with_name(f".{path.name}.inerte")
    tmp.write_text(text)
    os.replace(tmp, path)
