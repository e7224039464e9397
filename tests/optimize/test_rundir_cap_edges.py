"""`resume_command` for a directory that is no run store (not made yet, or not a search's): the plain command,
whose own error says why; it must not tell the user to raise a dollar cap that nothing shows was reached."""

from __future__ import annotations

from rolegraph.optimize.rundir import STORE_NAME, resume_command


def test_a_directory_that_is_no_run_gets_the_plain_hint_without_a_cap(tmp_path):
    missing = tmp_path / "never-made"
    assert resume_command(missing) == f"rolegraph optimize --resume {missing}"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / STORE_NAME).write_text("not a database")
    assert resume_command(foreign) == f"rolegraph optimize --resume {foreign}"
