"""Read and write graph files (YAML or JSON), and a graph's stable content hash.

Every way a file can be wrong (missing, unreadable, not UTF-8, broken syntax, duplicate keys,
huge or deeply nested, alias bombs, wrong shapes or types) becomes a `GraphError` whose
problems are one line each and name the node, edge or field, so the CLI never shows a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rolegraph.chat.spec import public_url
from rolegraph.errors import GraphError, unknown_field
from rolegraph.fileio import file_path, write_atomic
from rolegraph.graphs.spec import GraphSpec, NodeSpec

MAX_GRAPH_FILE_BYTES = 2 * 1024 * 1024
"""Far above any real graph (10,000 nodes fit in ~1 MB); stops accidental data files early."""
MAX_NESTING_DEPTH = 32
"""A graph is ~4 levels deep plus node params; deeper input is a mistake or an attack."""
MAX_VALUES = 200_000
"""Values visited after expanding YAML aliases: bounds 'billion laughs' inputs."""
HASH_HEX_CHARS = 16
MAX_SHOWN_INPUT = 60
"""Characters of an offending value quoted in a message."""
JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
TOP_FIELDS = tuple(GraphSpec.model_fields)
SECTION_LABELS = {"fanout": "fanout", "loops": "loop", "mcp_servers": "mcp server"}
NODE_FIELDS = tuple(NodeSpec.model_fields)

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when present: fast, and it refuses absurd nesting without deep recursion."""


class _StrictLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """A safe loader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '{key_node.value}'", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_INPUT else text[: MAX_SHOWN_INPUT - 3] + "..."


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_pairs)
    except json.JSONDecodeError as exc:
        raise GraphError([f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    except ValueError as exc:  # duplicate key from the hook
        raise GraphError([f"not valid JSON: {exc}"]) from None


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in problem:  # libyaml's own guard
            raise GraphError([f"nested too deeply (more than {MAX_NESTING_DEPTH} levels)"]) from None
        raise GraphError([f"{where}not valid YAML ({problem})"]) from None


def _parse(text: str, suffix: str) -> Any:
    if suffix in JSON_SUFFIXES:
        return _parse_json(text)
    if suffix in YAML_SUFFIXES or not text.lstrip().startswith(("{", "[")):
        return _parse_yaml(text)
    try:  # unknown extension that looks like JSON: JSON first, then YAML (a superset)
        return _parse_json(text)
    except GraphError:
        return _parse_yaml(text)


def _check_shape(data: Any) -> None:
    """Bound nesting depth and the number of values (aliases counted each time they are reached); refuse
    strings that are not encodable text."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    visited = 0
    while stack:
        value, level = stack.pop()
        visited += 1
        if visited > MAX_VALUES:
            raise GraphError([f"too large: more than {MAX_VALUES:,} values (after expanding YAML aliases)"])
        if level > MAX_NESTING_DEPTH:
            raise GraphError([f"nested too deeply (more than {MAX_NESTING_DEPTH} levels)"])
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
            stack.extend((k, level + 1) for k in value.keys())
        elif isinstance(value, list | tuple):
            stack.extend((v, level + 1) for v in value)
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # JSON's \ud800-style escapes: no terminal or encoder can take them
                raise GraphError(
                    [f"not valid Unicode text: {_short(value)} holds a lone surrogate (\\ud800-\\udfff escape)"]
                ) from None


def _as_id(value: Any) -> Any:
    """Integers are accepted as ids (YAML `id: 1`); everything else is left for validation."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _coerce_ids(data: dict) -> dict:
    data = dict(data)
    if isinstance(data.get("nodes"), list):
        data["nodes"] = [
            {**n, "id": _as_id(n["id"])} if isinstance(n, dict) and "id" in n else n for n in data["nodes"]
        ]
    if isinstance(data.get("edges"), list):
        data["edges"] = [[_as_id(x) for x in e] if isinstance(e, list) else e for e in data["edges"]]
    if "output" in data:
        data["output"] = _as_id(data["output"])
    return data


def _node_label(data: dict, index: int) -> str:
    nodes = data.get("nodes")
    label = f"node {index + 1}"
    if isinstance(nodes, list) and index < len(nodes) and isinstance(nodes[index], dict):
        node_id = nodes[index].get("id")
        if isinstance(node_id, str):
            label += f" ('{node_id}')"
    return label


def _describe(err: Mapping[str, Any], data: dict) -> str:
    """One line for one pydantic error, naming the node / edge / field."""
    loc, kind, given = err["loc"], err["type"], err.get("input")
    if kind == "invalid_key":
        return f"field names must be strings, got {_short(loc[-1])}"
    if loc and loc[0] == "nodes" and len(loc) >= 2 and isinstance(loc[1], int):
        where = _node_label(data, loc[1])
        if len(loc) == 2:
            return f"{where}: expected a mapping {{id, role, model, params?}}, got {_short(given)}"
        field = ".".join(str(p) for p in loc[2:])
        if kind == "missing":
            return f"{where}: missing field '{field}'"
        if kind == "extra_forbidden":
            return f"{where}: {unknown_field(field, NODE_FIELDS)}"
        return f"{where}: field '{field}': {err['msg']}, got {_short(given)}"
    if loc and loc[0] == "edges" and len(loc) >= 2 and isinstance(loc[1], int):
        edges = data.get("edges")
        raw = edges[loc[1]] if isinstance(edges, list) and loc[1] < len(edges) else given
        return f"edge {loc[1] + 1}: expected a pair [src, dst] of node ids, got {_short(raw)}"
    if loc and loc[0] in SECTION_LABELS and len(loc) >= 2 and isinstance(loc[1], int):
        return _section_problem(err, data, loc)
    field = ".".join(str(p) for p in loc)
    if kind == "missing":
        hint = " (a list of {id, role, model})" if field == "nodes" else ""
        return f"missing field '{field}'{hint}"
    if kind == "extra_forbidden":
        return unknown_field(field, TOP_FIELDS)
    return f"field '{field}': {err['msg']}, got {_short(given)}"


def _section_problem(err: Mapping[str, Any], data: dict, loc: tuple) -> str:
    """A problem inside one entry of `fanout:`, `loops:` or `mcp_servers:`, naming the entry."""
    section, index = loc[0], loc[1]
    entries = data.get(section)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    where = f"{SECTION_LABELS[section]} {index + 1}"
    if isinstance(entry, dict):
        if section == "loops" and {"from", "to"} <= entry.keys():
            where += f" ({entry['from']} -> {entry['to']})"
        elif section == "fanout" and "from" in entry:
            where += f" (from {entry['from']})"
        elif section == "mcp_servers" and isinstance(entry.get("name"), str):
            where += f" ({_short(entry['name'])})"
    if section == "mcp_servers":
        return _mcp_problem(err, where, loc)
    if len(loc) == 2:
        return f"{where}: {err['msg']}, got {_short(err.get('input'))}"
    field = ".".join(str(p) for p in loc[2:])
    if err["type"] == "missing":
        hint = " (every loop needs a bound)" if field == "max_rounds" else ""
        hint = " (the cap on copies)" if field == "max_fanout" else hint
        return f"{where}: missing field '{field}'{hint}"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field '{field}'"
    return f"{where}: field '{field}': {err['msg']}, got {_short(err.get('input'))}"


def _mcp_problem(err: Mapping[str, Any], where: str, loc: tuple) -> str:
    """A problem in one `mcp_servers` entry, naming the field but quoting no value of the entry (URLs and `env`
    values may be secrets, and error lines reach terminals and CI logs): a URL only as `public_url` shows it,
    a `timeout_s` number as given, anything else by its type."""
    msg, given, field = str(err["msg"]).removeprefix("Value error, "), err.get("input"), ".".join(map(str, loc[2:]))
    if field == "url" and isinstance(given, str):
        shown = repr(public_url(given) or "an unparsable URL")
    else:
        shown = _short(given) if field == "timeout_s" and isinstance(given, int | float) else type(given).__name__
    if len(loc) == 2:
        return f"{where}: {msg}" if "type" not in err["type"] else f"{where}: expected a mapping, got {shown}"
    if err["type"] in ("missing", "extra_forbidden"):
        return f"{where}: {'missing' if err['type'] == 'missing' else 'unknown'} field '{field}'"
    return f"{where}: field '{field}': {msg}, got {shown}"


def spec_from_data(data: Any, source: str | None = None) -> GraphSpec:
    """Validate already-parsed data into a `GraphSpec`, or raise `GraphError` with one line per problem."""
    if data is None:
        raise GraphError(["empty graph file: expected a mapping with 'nodes:' (and 'edges:')"], source=source)
    if not isinstance(data, dict):
        raise GraphError([f"expected a mapping with 'nodes:' (and 'edges:'), got {type(data).__name__}"], source=source)
    data = _coerce_ids(data)
    try:
        return GraphSpec.model_validate(data)
    except ValidationError as exc:
        problems: list[str] = []
        for err in exc.errors():
            line = _describe(err, data)
            if line not in problems:
                problems.append(line)
        raise GraphError(problems, source=source) from None


def load_graph(path: str | Path) -> GraphSpec:
    """Read a graph file: JSON for `.json`, YAML for `.yaml`/`.yml`, sniffed otherwise. A router file is named
    as one (not a list of a graph's missing fields): `load_spec` reads either kind."""
    from rolegraph.graphs.router import ROUTER_KIND

    path = file_path(path, "load_graph", GraphError)
    data = load_data(path)
    if isinstance(data, dict) and (data.get("kind") == ROUTER_KIND or "stages" in data):
        raise GraphError(
            [
                "this is a router file: read it with rolegraph.graphs.router_io.load_spec (a graph or a router) "
                "or load_router"
            ],
            source=str(path),
        )
    return spec_from_data(data, source=str(path))


def load_data(path: str | Path) -> Any:
    """A graph (or router) file's parsed content, every file-level problem a `GraphError` naming the file."""
    path = file_path(path, "load_data", GraphError)
    source = str(path)
    try:
        if not path.exists():
            raise GraphError(["graph file not found"], source=source)
        if not path.is_file():
            raise GraphError(["not a regular file"], source=source)
        size = path.stat().st_size
        if size > MAX_GRAPH_FILE_BYTES:
            raise GraphError(
                [f"file too large ({size:,} bytes; a graph file is at most {MAX_GRAPH_FILE_BYTES:,})"], source=source
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise GraphError([f"cannot read the file ({exc.strerror or exc})"], source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphError([f"not UTF-8 text (bad byte at offset {exc.start})"], source=source) from None
    try:
        data = _parse(text, path.suffix.lower())
        _check_shape(data)
    except GraphError as exc:
        raise GraphError(exc.problems, source=source) from None
    except RecursionError:
        raise GraphError([f"nested too deeply (more than {MAX_NESTING_DEPTH} levels)"], source=source) from None
    return data


def _plain(spec: GraphSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name}
    if spec.description:
        out["description"] = spec.description
    out["nodes"] = [_node_dict(n) for n in spec.nodes]
    out["edges"] = [[s, d] for s, d in spec.edges]
    if spec.output:
        out["output"] = spec.output
    out.update(_dynamic_parts(spec))
    return out


def _dynamic_parts(spec: GraphSpec) -> dict[str, Any]:
    """`fanout`, `loops` and `mcp_servers` as a file spells them (`from`/`to`), only when present."""
    out: dict[str, Any] = {}
    for key in ("fanout", "loops", "mcp_servers"):
        items = getattr(spec, key)
        if items:
            out[key] = [item.model_dump(by_alias=True, exclude_defaults=True) for item in items]
    return out


def _node_dict(node: NodeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "role": node.role, "model": node.model}
    if node.params:
        out["params"] = node.params
    return out


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=2**31 - 1, allow_unicode=True).strip()


def _block(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(mapping, default_flow_style=False, sort_keys=False, allow_unicode=True).rstrip("\n")


def dumps_yaml(spec: GraphSpec) -> str:
    """YAML in the documented layout: one flow mapping per node and one `[src, dst]` per edge."""
    plain = _plain(spec)
    lines = [_block({"name": plain["name"]})]
    if "description" in plain:
        lines.append(_block({"description": plain["description"]}))
    lines.append("nodes:")
    lines += [f"  - {_flow(n)}" for n in plain["nodes"]]
    if plain["edges"]:
        lines.append("edges:")
        lines += [f"  - {_flow(e)}" for e in plain["edges"]]
    else:
        lines.append("edges: []")
    if "output" in plain:
        lines.append(_block({"output": plain["output"]}))
    for key in ("fanout", "loops", "mcp_servers"):
        if key in plain:
            lines.append(f"{key}:")
            lines += [f"  - {_flow(item)}" for item in plain[key]]
    return "\n".join(lines) + "\n"


def save_graph(spec: GraphSpec, path: str | Path) -> Path:
    """Write `spec` as JSON for `.json`, YAML otherwise. Returns the path written."""
    path = file_path(path, "save_graph", GraphError)
    as_json = path.suffix.lower() in JSON_SUFFIXES
    return write_spec_file(
        path, json.dumps(_plain(spec), indent=2, ensure_ascii=False) + "\n" if as_json else dumps_yaml(spec)
    )


def write_spec_file(path: Path, text: str) -> Path:
    """Write a graph or router file whole (`write_atomic`): a kill mid-write once left a truncated best_graph.yaml
    or router.yaml. A directory that is not there is the user's mistake, one line, never made for them."""
    try:
        write_atomic(path, text, make_parents=False)
    except OSError as exc:
        raise GraphError([f"cannot write the file ({exc.strerror or exc})"], source=str(path)) from None
    return path


def _resolved_output(spec: GraphSpec) -> str | None:
    try:
        return spec.output_id()
    except ValueError:
        return None


def graph_hash(spec: GraphSpec) -> str:
    """Content hash: independent of node/edge order, params key order, name and description. The output counts
    as resolved (an explicit `output` equal to the single sink hashes like none)."""
    canonical = {
        "nodes": sorted(
            ([n.id, n.role, n.model, n.params] for n in spec.nodes),
            key=lambda n: json.dumps(n, sort_keys=True, default=str),
        ),
        "edges": sorted([s, d] for s, d in spec.edges),
        "output": _resolved_output(spec),
    }
    canonical.update(_dynamic_parts(spec))  # absent for a static graph: its hash is unchanged
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_HEX_CHARS]
