"""The grading side's shared words: who may read a note is its type, not its wording."""
from helpers.instructor import cli
from helpers.instructor.vocabulary import Audience, BadInput, CourseError, Note, NotANotebook, Status, for_students


def test_a_students_feedback_takes_notes_by_audience_never_by_wording():
    notes = [Note("celda «x»: superó el tiempo máximo"),
             Note("celda «y»: superó el tiempo máximo", Audience.INSTRUCTOR),  # worded like a student's note
             Note("MANIPULACIÓN en tu cuaderno: restaurada")]  # worded like an instructor's, meant for the student
    assert [n.text for n in for_students(notes)] == ["celda «x»: superó el tiempo máximo",
                                                     "MANIPULACIÓN en tu cuaderno: restaurada"]


def test_notes_are_stored_with_their_audience_and_old_plain_ones_stay_with_the_instructor():
    note = Note("se conservan tus notas", Audience.INSTRUCTOR)
    assert Note.from_record(note.record()) == note and note.record() == {"texto": "se conservan tus notas",
                                                                         "para": "profesor"}
    assert Note.from_record("una nota de un estado.json antiguo").audience is Audience.INSTRUCTOR


def test_statuses_are_the_reports_words():
    assert [str(s) for s in Status] == ["pendiente", "ignorado", "calificado", "sin cambios", "ilegible",
                                        "otro laboratorio", "error al calificar"]


def test_the_command_line_explains_course_errors_and_lets_bugs_show_their_traceback(monkeypatch, capsys):
    def fails(error):
        def run(args):
            raise error
        return run

    monkeypatch.setattr(cli, "cmd_report", fails(NotANotebook("x.ipynb", "JSON roto")))
    assert cli.main(["report", "lab1_convolutions"]) == 1
    assert capsys.readouterr().err == "error: x.ipynb no es un cuaderno de Jupyter válido (JSON roto).\n"
    assert isinstance(NotANotebook("x", "y"), BadInput) and issubclass(BadInput, (CourseError, ValueError))
    monkeypatch.setattr(cli, "cmd_report", fails(KeyError("un fallo del programa")))
    try:
        cli.main(["report", "lab1_convolutions"])
    except KeyError:
        pass
    else:
        raise AssertionError("a bug must not be turned into a one-line message")
