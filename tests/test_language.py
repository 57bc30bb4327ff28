"""The student's text reads naturally in Latin America and in Spain, and each lab ends with its
Spanish-English glossary, whose Spanish terms are the ones the lab uses."""
import re

import nbformat
import pytest

from helpers.course import ROOT, existing_labs, lab_notebook
from helpers.instructor import glossary, publish

#: Words a reader in Latin America finds odd (or that mean something else there) -> what to write.
SPAIN_ONLY = {
    r"\bordenador(es)?\b": "computadora",
    r"\bdesviaci[oó]n t[ií]pica\b": "desviación estándar",
    r"(^|[¡.!?]\s+)[¡]?vale[,.!]": "de acuerdo / bien",
    r"\b(vosotros|vosotras|vuestr[oa]s?|habéis|tenéis|podéis|sabéis|queréis|haced|mirad)\b": "ustedes / tú",
    r"\bficheros?\b": "archivo",
    r"\b(coger|coge|cogemos|cogido)\b": "tomar",
}
LABS = existing_labs()


def _student_texts():
    """Everything a student reads: each lab's release, the students' README and the student library."""
    for lab in LABS:
        nb = nbformat.read(str(lab_notebook("release", lab)), as_version=4)
        yield lab, "\n".join(c.source for c in nb.cells)
    yield "README del alumnado", publish.student_readme()
    for path in sorted((ROOT / "helpers").glob("*.py")):
        yield f"helpers/{path.name}", path.read_text()


@pytest.mark.parametrize("pattern, instead", SPAIN_ONLY.items())
def test_no_spain_only_words_in_what_students_read(pattern, instead):
    found = [f"{where}: «{m.group(0).strip()}»" for where, text in _student_texts()
             for m in re.finditer(pattern, text, re.I | re.M)]
    assert not found, f"escribe «{instead}»: {found}"


@pytest.mark.parametrize("lab", LABS)
def test_each_lab_ends_with_its_glossary_and_uses_its_terms(lab):
    nb = nbformat.read(str(lab_notebook("release", lab)), as_version=4)
    assert nb.cells[-1].source == glossary.glossary_markdown(lab)
    assert nb.cells[-1].metadata["nbgrader"]["locked"]
    text = "\n".join(c.source for c in nb.cells[:-1]).lower()
    for english in glossary.LAB_TERMS[lab]:
        spanish = glossary.TERMS[english][0].split(" (")[0].lower()
        # each word or another form of it: «congelar» ~ «congela», «pesos preentrenados» ~ «peso preentrenado»
        stem = r"\s+".join(re.escape(word[:max(4, len(word) - 2)]) + r"\w*" for word in spanish.split())
        assert re.search(stem, text), f"{lab}: el glosario dice «{spanish}» ({english}), pero el laboratorio no lo usa"


def test_one_spanish_term_per_english_term():
    spanish = [term for term, _ in glossary.TERMS.values()]
    assert len(set(spanish)) == len(spanish)
    assert all(english in glossary.TERMS for terms in glossary.LAB_TERMS.values() for english in terms)
    assert set(glossary.LAB_TERMS) == set(LABS)
