"""The scope of the quick tests' shared fixtures, for mutation testing as much as for speed."""
import os


def shared(fixture_name, config) -> str:
    """Module scope, except while mutmut maps each test to the functions of ``helpers`` it reaches.

    mutmut then runs, for each mutant, only the tests it mapped to the mutated function; a module-scoped
    fixture would credit the functions it calls to the first test that set it up alone, and a mutant in
    them would never meet the tests that read what they made. While mapping (``MUTANT_UNDER_TEST`` is
    ``stats``) each test sets the fixture up itself.
    """
    return "function" if os.environ.get("MUTANT_UNDER_TEST") == "stats" else "module"
