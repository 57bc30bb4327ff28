"""nbgrader settings for the course; this checkout is the course root (source/, release/, ...)."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dl-curso"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "datos", ".cache"]

# What students see in place of the solutions
c.ClearSolutions.code_stub = {"python": "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ESCRIBE TU RESPUESTA AQUÍ"
# ... and the stub's `raise` names the exercise: NotImplementedError("Ejercicio 2.1 sin completar")
from nbgrader.converters import GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import ClearSolutions  # noqa: E402

c.GenerateAssignment.preprocessors = ["helpers.instructor.stubs.NamedStubs" if p is ClearSolutions else p
                                      for p in GenerateAssignment.class_traits()["preprocessors"].default()]

# Autograding runs in the smoke profile (nbgrader sets NBGRADER_EXECUTION): every cell is quick, so
# a cell that runs longer than this is stuck (an infinite loop, say) and is stopped.
from helpers.instructor.nbgrader_io import CELL_TIMEOUT  # noqa: E402

c.Execute.timeout = CELL_TIMEOUT
