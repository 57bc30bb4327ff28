"""The grading side's shared words, each a type: a file's status, a note and who may read it, and the errors
the instructor can act on.

Modules compare these members, never their Spanish text, which is only how the report, the CSV and the
command line say them.

Errors:

- :class:`CourseError`: a problem the instructor can fix, said in Spanish. ``course`` prints its message and
  exits with 1, without a traceback; any other exception is a bug and keeps its traceback.

  - :class:`BadInput` (also a ``ValueError``): a file, folder or option that cannot be used as given.

    - :class:`NotANotebook`: a submitted file that is not a Jupyter notebook; ``reason`` says why.

  - :class:`Missing` (also a ``FileNotFoundError``): something that should exist does not.
  - :class:`StepFailed` (also a ``RuntimeError``): a tool the course runs (nbgrader, the answer key) failed.
"""
import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    """What happened to one received file, from intake to the gradebook (the value is the report's word)."""

    PENDING = "pendiente"  # taken in, waiting to be graded
    IGNORED = "ignorado"  # not a submission (not a notebook, an older version, a system file...)
    GRADED = "calificado"
    UNCHANGED = "sin cambios"  # the same file as last time: its grades stand
    UNREADABLE = "ilegible"
    OTHER_LAB = "otro laboratorio"
    FAILED = "error al calificar"  # something failed unexpectedly with this file; the class went on


class Audience(enum.Enum):
    """Who may read a note."""

    STUDENT = "estudiante"  # in the report and in the student's feedback
    INSTRUCTOR = "profesor"  # in the report only (tampering, suspicious code, kept manual grades)


@dataclass(frozen=True)
class Note:
    """One line about a file for the report, and for the student's feedback when its audience allows."""

    text: str
    audience: Audience = Audience.STUDENT

    def __str__(self) -> str:
        return self.text

    def record(self) -> dict:
        """The note as ``estado.json`` keeps it (Spanish keys), read back by :meth:`from_record`."""
        return {"texto": self.text, "para": self.audience.value}

    @classmethod
    def from_record(cls, record) -> "Note":
        """A note :meth:`record` stored; a plain string (a state file from before notes had an audience)
        is kept for the instructor only, so that nothing meant for them can reach a student."""
        if isinstance(record, str):
            return cls(record, Audience.INSTRUCTOR)
        return cls(record["texto"], Audience(record["para"]))


def for_students(notes: list[Note]) -> list[Note]:
    """The notes a student may read in their feedback."""
    return [n for n in notes if n.audience is Audience.STUDENT]


class CourseError(Exception):
    """A problem the instructor can fix, said in Spanish: ``course`` prints it without a traceback."""


class BadInput(CourseError, ValueError):
    """A file, folder or option that cannot be used as given."""


class NotANotebook(BadInput):
    """A file that is not a Jupyter notebook; ``reason`` says why, ``kind`` names what reading it raised."""

    def __init__(self, path, reason: str, kind: str = ""):
        super().__init__(f"{path} no es un cuaderno de Jupyter válido ({reason}).")
        self.reason, self.kind = reason, kind


class Missing(CourseError, FileNotFoundError):
    """Something that should exist does not (a folder, a gradebook, a built notebook)."""


class StepFailed(CourseError, RuntimeError):
    """A tool the course runs failed (nbgrader, the answer key's own tests)."""
