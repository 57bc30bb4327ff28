"""What a student finds in place of a solution: nbgrader's stub, naming the exercise it belongs to.

nbgrader replaces every ``### BEGIN SOLUTION`` region with one stub for the whole course
(``ClearSolutions.code_stub`` in ``nbgrader_config.py``). :class:`NamedStubs` then names the exercise in
the stub's ``raise``, so that running a test before answering says which exercise is missing in Spanish
(``NotImplementedError: Ejercicio 2.1 sin completar``) instead of a bare ``NotImplementedError``.
"""
import re

from nbgrader.preprocessors import ClearSolutions

from .exercises import answer_titles

#: The ``raise`` line of nbgrader's stub, as ``nbgrader_config.py`` writes it.
BARE_RAISE = "raise NotImplementedError()"
#: A stub's ``raise`` line, bare or naming its exercise (what :func:`named_raise` writes).
STUB_RAISE = re.compile(r'raise NotImplementedError\((?:"[^"\\\n]* sin completar")?\)')


def named_raise(title: str) -> str:
    """The stub's ``raise`` line for the answer to exercise ``title`` ("Ejercicio 2.1")."""
    return f'raise NotImplementedError("{title} sin completar")'


def is_stub_line(line: str) -> bool:
    """Whether ``line`` (stripped) is the ``raise`` line of a stub, bare or named."""
    return STUB_RAISE.fullmatch(line.strip()) is not None


class NamedStubs(ClearSolutions):
    """nbgrader's ``ClearSolutions``, then each answer cell's stub names the exercise it answers."""

    def preprocess(self, nb, resources):
        titles = answer_titles(nb)  # read before clearing: the titles are in the markdown, not the answers
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            title = titles.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
            if cell.cell_type == "code" and title:
                cell.source = "\n".join(line.replace(BARE_RAISE, named_raise(title)) if line.strip() == BARE_RAISE
                                        else line for line in cell.source.split("\n"))
        return nb, resources
