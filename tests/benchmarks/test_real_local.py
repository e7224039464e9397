"""The real-model benchmark's result file (`real_local.run`) says it is not simulated in the key every simulated
result file has (`simulated`), not only in its `label` text; the benchmark's measuring part is a stand-in here
(it needs llama.cpp's server and takes most of an hour), the writer is the real one."""

from __future__ import annotations

import json

from benchmarks import real_local
from benchmarks.common import BenchRun


def test_the_written_result_says_it_is_not_simulated(tmp_path, monkeypatch):
    async def measured(cfg, bench_run):
        return {"label": real_local.LABEL, "real": {}, "sim": {}}

    monkeypatch.setattr(real_local, "_main", measured)
    monkeypatch.setattr(real_local, "_tables", lambda payload: "tables\n")
    real_local.run(out_dir=tmp_path, bench_run=BenchRun())
    written = json.loads((tmp_path / "real_local.json").read_text())
    assert written["simulated"] is False
    assert written["label"].startswith("real")
