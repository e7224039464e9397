"""The files a message says a run directory holds are only those it holds (a run stopped before it scored a graph
has no best_graph.yaml nor graph.png)."""
from rolegraph.cli.optimize_output import run_files


def test_only_the_files_present_are_listed(tmp_path):
    (tmp_path / "report.md").write_text("# report\n")
    (tmp_path / "trace.json").write_text("{}\n")
    assert run_files(tmp_path) == ["report.md", "trace.json"]
