"""Compose a collaboration graph in Python with the builder API, check it, look at it, save it.

Runs offline and calls no model:  python examples/compose.py [OUT.yaml]
(default OUT: ./composed.yaml). Then:  rolegraph run OUT.yaml --task gsm --item 0
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rolegraph.errors import RolegraphError
from rolegraph.graphs.analysis import TOKEN_PROFILES, critical_path, summary
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash, load_graph, save_graph
from rolegraph.graphs.render import to_mermaid, to_text_table
from rolegraph.models.pool import ModelPool

DEFAULT_OUT = Path("composed.yaml")
EXIT_USER_ERROR = 2


def build(pool: ModelPool):
    """A planner feeds three diverse solvers; a verifier refines the weakest one; an 8B fuser decides."""
    return (
        Graph("composed", description="planner, three diverse solvers, a verifier hop, an 8B fuser")
        .node("plan", "planner", "sim/llama-3.2-3b")
        .node("solve_1b", "solver", "sim/llama-3.2-1b", temperature=0.7)
        .node("solve_3b", "solver", "sim/llama-3.2-3b", temperature=0.7)
        .node("solve_8b", "solver", "sim/llama-3.1-8b", temperature=0.7)
        .node("check", "verifier", "sim/llama-3.2-3b")
        .node("fuse", "fuser", "sim/llama-3.1-8b", temperature=0.2)
        .fan_out("plan", ["solve_1b", "solve_3b", "solve_8b"])
        .chain("solve_1b", "check", "fuse")
        .fan_in(["solve_3b", "solve_8b"], "fuse")
        .output("fuse")
        .build(pool)  # validates: a typo in a role or model id fails here, with suggestions
    )


def main(out: Path) -> None:
    pool = ModelPool.builtin()
    spec = build(pool)
    info = summary(spec, pool, TOKEN_PROFILES["math"])
    print(to_text_table(spec))
    print(f"summary (math token profile): {info.line()}")
    # modelled per-node latencies, in seconds, only to show the critical-path helper
    seconds = {"plan": 1.0, "solve_1b": 0.5, "solve_3b": 1.2, "solve_8b": 2.5, "check": 1.2, "fuse": 2.5}
    total, path = critical_path(spec, seconds)
    print(f"critical path with example latencies: {' -> '.join(path)} ({total:.1f} s)")
    print("\nMermaid:\n" + to_mermaid(spec))
    save_graph(spec, out)
    if graph_hash(load_graph(out)) != graph_hash(spec):
        raise SystemExit(f"{out} did not round-trip")  # never expected: save and load are inverses
    print(f"saved {out} (hash {graph_hash(spec)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help=f"graph file to write (default {DEFAULT_OUT})")
    try:
        main(parser.parse_args().out)
    except (RolegraphError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
