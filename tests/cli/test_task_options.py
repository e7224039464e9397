"""`--task-option KEY=VALUE` on eval and optimize: a JSONL file with its own field names and family is usable
from the command line, the options travel with a search run (resume, `eval --add-to`, `route fit` rebuild the
same task), and a malformed or unknown option is one line, exit 2."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.cli.support import run_cli

SINGLE = "name: one\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-3b}\n"
QA_OPTIONS = ["--task-option", "question_field=q", "--task-option", "answer_field=a", "--task-option", "family=qa"]


@pytest.fixture
def qa_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps({"q": f"Capital of land {i}?", "a": f"Town {i}"}) + "\n" for i in range(120)))
    (tmp_path / "one.yaml").write_text(SINGLE)
    return path


def test_eval_reads_a_jsonl_files_own_fields_and_family(qa_file, capsys):
    graph = qa_file.parent / "one.yaml"
    code, out, err = run_cli(capsys, "eval", graph, "--task", "jsonl", "--data", qa_file, "--n", "5", "--json")
    assert code == 2 and "question" in err and "Traceback" not in err  # the default field is not in this file
    code, out, err = run_cli(capsys, "eval", graph, "--task", "jsonl", "--data", qa_file, "--n", "5", "--json",
                             *QA_OPTIONS)
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["n"] == 5
    store = sqlite3.connect(qa_file.parent / "home" / "results.sqlite")
    settings = [json.loads(row[0]) for row in store.execute("SELECT settings FROM runs")]
    assert settings[-1]["task_options"] == {"question_field": "q", "answer_field": "a", "family": "qa"}


@pytest.mark.parametrize(("option", "message"), [
    ("question_field", "--task-option takes KEY=VALUE (e.g. family=qa), got 'question_field'"),
    ("=q", "--task-option takes KEY=VALUE"),
    ("famly=qa", "task 'jsonl' has no option 'famly' (options: question_field, answer_field, family"),
    ("family=code", "family"),
    ("size=3", "give the size with --task-size"),
])
def test_a_bad_task_option_is_one_line(qa_file, capsys, option, message):
    graph = qa_file.parent / "one.yaml"
    code, out, err = run_cli(capsys, "eval", graph, "--task", "jsonl", "--data", qa_file, "--task-option", option)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_search_keeps_its_task_options_for_add_to(qa_file, capsys):
    run = qa_file.parent / "run"
    code, out, err = run_cli(
        capsys, "optimize", "--task", "jsonl", "--data", qa_file, *QA_OPTIONS, "--models",
        "sim/llama-3.2-1b,sim/llama-3.2-3b", "--roles", "solver,fuser", "--iterations", "1", "--samples", "2",
        "--batch", "4", "--validation-items", "4", "--test-items", "6", "--route-items", "8", "--json", "--out", run,
    )
    assert code == 0, err
    config = json.loads(sqlite3.connect(run / "run.sqlite").execute(
        "SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
    assert {k: config["task_args"].get(k) for k in ("question_field", "answer_field", "family")} == {
        "question_field": "q", "answer_field": "a", "family": "qa"}
    code, out, err = run_cli(capsys, "eval", qa_file.parent / "one.yaml", "--add-to", run)
    assert code == 0 and "added to" in out, err
    code, out, err = run_cli(capsys, "eval", qa_file.parent / "one.yaml", "--add-to", run, "--task-option", "family=qa")
    assert code == 2 and "drop --task-option" in err
