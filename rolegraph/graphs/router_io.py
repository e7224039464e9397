"""Router files: read (with the one-line problems graph files get), write, hash; and `load_spec`, which reads
either kind of file, so every command that takes a graph takes a router too.

A stage's `graph` is a graph written inline, or the path of a graph file (relative to the router file).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rolegraph.errors import GraphError, did_you_mean, unknown_field
from rolegraph.fileio import file_path
from rolegraph.graphs.checked import validation_lines
from rolegraph.graphs.io import HASH_HEX_CHARS, dumps_yaml, graph_hash, load_data, spec_from_data, write_spec_file
from rolegraph.graphs.router import OUTPUT, PLURALITY, ROUTER_KIND, RouterSpec, Stage, StopRule
from rolegraph.graphs.spec import GraphSpec

ROUTER_FIELDS = ("kind", "name", "description", "stages", "fit")
STAGE_FIELDS = ("graph", "stop", "answer")
ANSWER_MODES = (OUTPUT, PLURALITY)
RULE_FIELDS = tuple(StopRule.model_fields)
RULE_TYPES = {"float_type": "a number", "bool_type": "true or false"}
"""pydantic's error type for a stop condition of the wrong type (StopRule's fields are strict): what it must be."""
INDENT = "      "  # a stage's graph sits under "  - graph:"

ROUTER_FILE = "router.yaml"
"""A run directory's router file: where `route fit` and the demo write it, and what the report describes."""


def is_router_data(data: Any) -> bool:
    return isinstance(data, dict) and (data.get("kind") == ROUTER_KIND or "stages" in data)


def _rule(raw: Any, where: str) -> tuple[StopRule | None, list[str]]:
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        return None, [f"{where}: 'stop' must be a mapping of {', '.join(RULE_FIELDS)}, got {raw!r}"]
    try:
        return StopRule.model_validate(raw), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                hint = did_you_mean(field, RULE_FIELDS, list_known=False)  # the known ones are listed already
                problems.append(f"{where}: unknown stop condition '{field}' (known: {', '.join(RULE_FIELDS)}).{hint}")
            elif err["type"] in RULE_TYPES:
                problems.append(f"{where}: stop.{field} must be {RULE_TYPES[err['type']]}, got {err.get('input')!r}")
            else:
                problems.append(f"{where}: stop.{field}: {err['msg']}, got {err.get('input')!r}")
        return None, problems


def _stage_graph(raw: Any, where: str, base: Path | None) -> tuple[GraphSpec | None, list[str]]:
    """A stage's graph, inline or from a graph file. A router there is named as such in a router author's terms
    (`load_graph`'s own line for a router file names the Python function that reads one)."""
    given, prefix = "its graph", where
    if isinstance(raw, str):
        given = f"graph file {raw}"
        prefix = f"{where}: {given}"
        path = Path(raw).expanduser()
        path = path if path.is_absolute() or base is None else base / path
        try:
            raw = load_data(path)
        except GraphError as exc:
            return None, [f"{prefix}: {p}" for p in exc.problems]
    if is_router_data(raw):
        return None, [
            f"{where}: {given} is a router, and a stage's graph cannot be a router: give a graph (or copy that "
            "router's stages into this one)"
        ]
    try:
        return spec_from_data(raw), []
    except GraphError as exc:
        return None, [f"{prefix}: {p}" for p in exc.problems]


def router_from_data(data: dict, source: str | None = None, base: Path | None = None) -> RouterSpec:
    """Validate parsed data into a `RouterSpec`, or raise `GraphError` with one line per problem."""
    problems: list[str] = []
    if data.get("kind", ROUTER_KIND) != ROUTER_KIND:
        problems.append(f"field 'kind': a router file says kind: {ROUTER_KIND}, got {data.get('kind')!r}")
    for key in data:
        if key not in ROUTER_FIELDS:
            problems.append(unknown_field(key, ROUTER_FIELDS))
    raw_stages = data.get("stages")
    stages: list[Stage] = []
    if not isinstance(raw_stages, list) or not raw_stages:
        problems.append("field 'stages': expected a non-empty list of {graph, stop}")
        raw_stages = []
    for i, raw in enumerate(raw_stages, start=1):
        where = f"stage {i}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping {{graph, stop}}, got {raw!r}")
            continue
        for key in raw:
            if key not in STAGE_FIELDS:
                problems.append(f"{where}: {unknown_field(key, STAGE_FIELDS)}")
        if "graph" not in raw:
            problems.append(f"{where}: missing field 'graph' (a graph, or the path of a graph file)")
            continue
        graph, graph_problems = _stage_graph(raw["graph"], where, base)
        rule, rule_problems = _rule(raw.get("stop"), where)
        answer = raw.get("answer", OUTPUT)
        if answer not in ANSWER_MODES:
            rule_problems.append(f"{where}: 'answer' must be one of {', '.join(ANSWER_MODES)}, got {answer!r}")
        problems += graph_problems + rule_problems
        if graph is not None and not rule_problems:
            stages.append(Stage(graph=graph, stop=rule, answer=answer))
    if problems:
        raise GraphError(problems, source=source)
    try:  # model_validate, not RouterSpec(...): that raises its own error naming the class, not the file
        return RouterSpec.model_validate(
            {
                "name": data.get("name", "router"),
                "description": data.get("description"),
                "stages": stages,
                "fit": data.get("fit"),
            }
        )
    except ValidationError as exc:
        raise GraphError(validation_lines(exc, RouterSpec), source=source) from None


def load_router(path: str | Path) -> RouterSpec:
    path = file_path(path, "load_router", GraphError)
    data = load_data(path)
    if not is_router_data(data):
        raise GraphError(["not a router file (expected kind: router and stages: [...])"], source=str(path))
    return router_from_data(data, source=str(path), base=path.parent)


def load_spec(path: str | Path) -> GraphSpec | RouterSpec:
    """A graph file or a router file, whichever `path` holds."""
    path = file_path(path, "load_spec", GraphError)
    data = load_data(path)
    if is_router_data(data):
        return router_from_data(data, source=str(path), base=path.parent)
    return spec_from_data(data, source=str(path))


def _block(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=True).rstrip("\n")


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=2**31 - 1).strip()


def dumps_router(router: RouterSpec) -> str:
    """YAML: the router's name, then each stage's stop rule and its graph in the graph file layout."""
    lines = [f"kind: {ROUTER_KIND}", _block({"name": router.name})]
    if router.description:
        lines.append(_block({"description": router.description}))
    lines.append("stages:")
    for stage in router.stages:
        head = "  - "
        if stage.stop is not None:
            lines.append(f"{head}stop: {_flow(stage.stop.model_dump(exclude_defaults=True))}")
            head = "    "
        if stage.plurality:
            lines.append(f"{head}answer: {PLURALITY}")
            head = "    "
        lines.append(f"{head}graph:")
        lines += [INDENT + line for line in dumps_yaml(stage.graph).rstrip("\n").splitlines()]
    if router.fit:
        lines.append(_block({"fit": router.fit}))
    return "\n".join(lines) + "\n"


def save_router(router: RouterSpec, path: str | Path) -> Path:
    path = file_path(path, "save_router", GraphError)
    text = (
        json.dumps(router.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
        if path.suffix.lower() == ".json"
        else dumps_router(router)
    )
    return write_spec_file(path, text)


def router_hash(router: RouterSpec) -> str:
    """Content hash of the stages (graphs by `graph_hash`, rules by value); name, description and fit ignored."""
    canonical = [
        [graph_hash(s.graph), s.stop.model_dump() if s.stop else None] + ([PLURALITY] if s.plurality else [])
        for s in router.stages
    ]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_HEX_CHARS]


def spec_hash(spec: GraphSpec | RouterSpec) -> str:
    return router_hash(spec) if isinstance(spec, RouterSpec) else graph_hash(spec)
