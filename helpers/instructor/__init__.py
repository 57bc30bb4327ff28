"""The instructor's half of the course package: build, grade and publish. Students never install it.

``build`` (releases and answer keys), ``nbgrader_io`` (notebook files and nbgrader runs, for building and
grading alike), ``collect`` (submissions from a folder or a platform's zip), ``repair`` (damaged notebooks
against the release), ``sandbox`` (every student kernel sealed off), ``execute`` (execution that survives a
crashing cell), ``tamper`` (tripwires around the tests), ``grading`` (a whole class), ``export`` and ``platform_files``
(grades back to Moodle and Canvas), ``vocabulary`` (the statuses, notes and errors they share) and ``cli``
(the ``course`` command). The student half (``helpers``) imports nothing from here.
"""
