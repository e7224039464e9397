"""SIGTERM during `rolegraph optimize` saves and says so like Ctrl-C, and exits 143 (128 + SIGTERM): it ended the
process with -15, no "saved" line and no `--resume` hint. A real process and a real signal."""
from __future__ import annotations

from tests.run_dir_support import checkpointed_iteration, signal_after_checkpoint

SEARCH = ["optimize", "--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "400",
          "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "4", "--json"]
TERMINATED = 143


def test_sigterm_saves_the_search_and_exits_143(tmp_path):
    run_dir = tmp_path / "run"
    code, out, err = signal_after_checkpoint([*SEARCH, "--out", str(run_dir)], run_dir, tmp_path / "home",
                                             timeout_s=60)
    assert code == TERMINATED, err[-2000:]
    assert "Traceback" not in err and out == ""
    lines = [line for line in err.splitlines() if line.startswith("terminated")]
    assert len(lines) == 1 and "the search is saved up to its last checkpoint (iteration " in lines[0], err
    assert lines[0].endswith(f"continue with: rolegraph optimize --resume {run_dir}")
    assert (run_dir / "report.md").is_file()  # rendered from the checkpoint, as after Ctrl-C
    saved = checkpointed_iteration(run_dir)
    assert saved is not None and saved >= 1 and f"(iteration {saved};" in lines[0]
