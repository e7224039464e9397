"""HumanEval through the real sandbox: canonical solutions pass 164/164, empty bodies 0/164."""
from __future__ import annotations

import subprocess
import sys
import re
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from rolegraph.tasks import get_task
from rolegraph.tasks.humaneval import HumanEvalTask, build_program

HUMANEVAL_PROBLEMS = 164
WORKERS = 4  # sandbox runs are mostly process start-up: a few at a time keeps 2 cores busy


@dataclass
class Outcome:
    exit_code: int | None
    timed_out: bool
    stdout: str = ""


def plain_subprocess(code: str, timeout_s: float) -> Outcome:
    """Used only if rolegraph.tools.sandbox is not importable (it is written by another module)."""
    try:
        done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return Outcome(None, True)
    return Outcome(done.returncode, False, done.stdout.decode(errors="replace"))


def _runner():
    try:
        from rolegraph.tools.sandbox import run_python
    except ImportError:
        return plain_subprocess
    return run_python


@pytest.fixture(scope="module")
def task() -> HumanEvalTask:
    return HumanEvalTask(runner=_runner())


def test_loads_the_bundled_problems_as_code_items():
    task = get_task("humaneval")
    items = task.all_items()
    assert len(items) == HUMANEVAL_PROBLEMS and task.skipped == 0
    assert (task.family, task.answer_kind) == ("code", "code")
    assert len({i.id for i in items}) == HUMANEVAL_PROBLEMS
    for item in items:
        assert item.metadata["prompt"] in item.question
        assert item.gold == item.metadata["prompt"] + item.metadata["canonical_solution"]


@pytest.mark.slow
def test_canonical_solutions_pass_and_empty_bodies_fail(task):
    items = task.all_items()
    predictions = [i.gold for i in items] + ["    pass\n"] * len(items)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(task.score, predictions, items + items))
    canonical, empty = scores[:len(items)], scores[len(items):]
    assert sum(canonical) == HUMANEVAL_PROBLEMS, [i.id for i, s in zip(items, canonical) if s != 1.0]
    assert sum(empty) == 0, [i.id for i, s in zip(items, empty) if s != 0.0]


def _item(task, task_id):
    return next(i for i in task.all_items() if i.id == task_id)


def test_a_body_alone_indented_or_not_is_completed_with_the_prompt(task):
    item = _item(task, "HumanEval/0")
    body = item.metadata["canonical_solution"]
    unindented = textwrap.dedent(body).strip()
    assert not unindented.startswith(" ")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(lambda p: task.score(p, item), [body, unindented]))
    assert scores == [1.0, 1.0]


def test_a_whole_function_may_use_helpers_defined_in_the_prompt(task):
    item = _item(task, "HumanEval/38")  # decode_cyclic relies on the prompt's encode_cyclic
    assert item.metadata["entry_point"] == "decode_cyclic"
    fenced_answer = ("Decoding is encoding twice.\n```python\nimport math\n\ndef decode_cyclic(s: str):\n"
                     "    return encode_cyclic(encode_cyclic(s))\n```\nDone.")
    wrong = "def decode_cyclic(s: str):\n    return s\n"
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(lambda p: task.score(p, item), [fenced_answer, wrong]))
    assert scores == [1.0, 0.0]


def test_missing_broken_and_endless_candidates_score_zero():
    quick = HumanEvalTask(runner=_runner(), timeout_s=2)
    item = _item(quick, "HumanEval/2")
    assert quick.score(None, item) == 0.0
    assert quick.score("   \n", item) == 0.0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(lambda p: quick.score(p, item), ["    return (", "    while True:\n        pass\n"]))
    assert scores == [0.0, 0.0]


def test_build_program_places_a_whole_function_after_the_prompt():
    prompt = "def f(x):\n    \"\"\"Add one.\"\"\"\n"
    program = build_program("def f(x):\n    return x + 1", prompt, "f")
    assert program.index(prompt) < program.index("return x + 1")
    namespace: dict = {}
    exec(compile(program, "<candidate>", "exec"), namespace)  # our own fixed code, not a model's
    assert namespace["f"](1) == 2


def test_an_async_runner_is_awaited():
    async def runner(code, timeout_s):
        return plain_subprocess(code, timeout_s)

    task = HumanEvalTask(runner=runner)
    item = _item(task, "HumanEval/0")
    assert task.score(item.gold, item) == 1.0


EARLY_EXITS = [
    "    exit()\n",
    "    import sys\n    sys.exit(0)\n",
    "    import os\n    os._exit(0)\n",
    "    raise SystemExit\n",
    "    quit()\n",
    "```python\nimport unittest\n\ndef has_close_elements(numbers, threshold):\n    return False\n\n"
    "if __name__ == \"__main__\":\n    unittest.main()\n```",
]


def test_a_candidate_that_exits_before_the_tests_run_fails(task):
    """Exit code 0 is not a pass unless check() completed (it printed the run's marker)."""
    item = _item(task, "HumanEval/0")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(lambda p: task.score(p, item), EARLY_EXITS + [item.gold]))
    assert scores == [0.0] * len(EARLY_EXITS) + [1.0]


def test_a_chatty_correct_candidate_still_passes(task):
    """The candidate's prints are discarded, so the sandbox's capped stdout cannot lose the marker."""
    item = _item(task, "HumanEval/0")
    chatty = "    print('x' * 100000)\n" + item.metadata["canonical_solution"]
    assert task.score(chatty, item) == 1.0
    # writing to the file descriptor itself (as os.write, a C extension or a child process does) too
    raw = "    import os\n    os.write(1, b'x' * 100000)\n" + item.metadata["canonical_solution"]
    assert task.score(raw, item) == 1.0


def test_a_runner_without_the_marker_in_stdout_scores_zero():
    runs = []

    def exits_zero_silently(code, timeout_s):
        runs.append(code)
        return Outcome(0, False, "")

    task = HumanEvalTask(runner=exits_zero_silently)
    item = _item(task, "HumanEval/0")
    assert task.score(item.gold, item) == 0.0
    first, second = runs[0], (task.score(item.gold, item), runs[1])[1]
    marker = re.search(r"rolegraph-check-passed-[0-9a-f]+", first).group(0)
    assert marker not in second  # a fresh marker each run
    assert first.index(f"check({item.metadata['entry_point']})") < first.index(marker)


@pytest.mark.parametrize("fence", [
    "```python\r\n{code}```", "``` python\n{code}```", "~~~python\n{code}~~~",
    "```python\n{code}```\nUsage:\n```python\nprint(has_close_elements([1.0, 2.0], 0.5))\n```",
])
def test_fenced_solutions_in_other_layouts_pass(task, fence):
    item = _item(task, "HumanEval/0")
    code = item.gold if "\r" not in fence else item.gold.replace("\n", "\r\n")
    assert task.score(fence.format(code=code), item) == 1.0


def test_unfenced_code_in_prose_reaches_the_sandbox_and_prose_alone_does_not_pass(task):
    """A model that ignores the fence request: its function is run (it used to score 0 unrun)."""
    from rolegraph.agents.parsers import parse_answer

    item = _item(task, "HumanEval/0")
    whole = item.gold  # prompt + canonical solution: a complete `def has_close_elements`
    replies = ["Sure! " + whole, whole + "\nThis compares every pair.", item.metadata["canonical_solution"],
               "It compares every pair of numbers."]
    answers = [parse_answer(reply, "code").answer for reply in replies]
    assert answers[-1] is None
    assert task.program_for("Sure! " + whole, item).count("Sure!") == 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(lambda p: task.score(p, item), answers[:-1] + ["Sure! " + whole]))
    assert scores == [1.0, 1.0, 1.0, 1.0]
