"""What one OpenAI-compatible endpoint can do, asked once: its context window and the structured-output
form it takes.

Why ask: a prompt sized for a context the server does not have fails with a 400 on every call (the
LLM feedback agent on llama.cpp's 2,048-token server did exactly that while the pool's default said
8,192), and the servers disagree on structured output: OpenAI and vLLM take `{"type": "json_schema",
"json_schema": {...}}`, llama-cpp-python's server takes `{"type": "json_object", "schema": {...}}` and
answers `json_schema` with a 500, llama.cpp's own server takes `json_schema`.

The context window is the pool entry's explicit `context_window` first, then what the server says at
run time (llama.cpp: `GET /props` -> `default_generation_settings.n_ctx` at the server root; vLLM:
`max_model_len` in `GET /v1/models`), then `DEFAULT_CONTEXT`. The structured form is found with one
tiny request per form (one output token), sent through the caller's model (`probe_structured`): the hub's
model, so the spend guard can refuse the probe and its dollars are counted once in `paid_usd` like every
other call's. (It went straight over HTTP, outside the hub: a real search paid for it and its store never
said so, nor could `--max-dollars` refuse it.) Each form is asked once (`attempts.single_attempt`): a refusal,
even a 500 as llama-cpp-python's, is the answer, not a transient failure to retry. A probe that timed out or
could not connect decides nothing (`undecided` says why): a busy server answered the 1-token probe late, and
taking that as "no structured output" sent a whole search's agent requests without their schema, silently. The
caller asks again later.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import ChatModel
from rolegraph.models.attempts import single_attempt
from rolegraph.models.openai_errors import ModelCallError

DEFAULT_CONTEXT = 8192
"""Assumed when neither the pool entry nor the server states a context window."""
PROBE_TIMEOUT_S = 30.0
"""Timeout of the context-window queries (`GET /props`, `GET /models`: free, so sent straight over HTTP)."""
API_SUFFIX = "/v1"
StructuredForm = Literal["json_schema", "json_object", "none"]
FORMS: tuple[StructuredForm, ...] = ("json_schema", "json_object")
"""Tried in this order: the OpenAI form first (OpenAI, vLLM, llama.cpp's server), then
llama-cpp-python's."""
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
PROBE_MESSAGES = [{"role": "user", "content": 'Reply with {"ok": true}.'}]
ContextSource = Literal["pool entry", "server", "default"]


@dataclass(frozen=True)
class EndpointInfo:
    """What was found out about one endpoint (`context_source` says where the window came from)."""

    context_window: int
    context_source: ContextSource
    structured: StructuredForm
    undecided: str | None = None
    """Why the structured form is not known (the probe timed out or could not connect): `structured` is
    then "none" for now, not a finding about the endpoint."""


def split_query(base_url: str) -> tuple[str, dict[str, str]]:
    """`base_url` without its query, and the query's parameters. The `openai` client appends a request's path
    to the whole base URL text, query included (`...?api-version=1chat/completions`), so the backend hands it
    the bare URL and the parameters as `default_query`, which it sends with every request; `api_url` here
    builds the same URLs for the probes."""
    parts = urlsplit(base_url)
    return urlunsplit((*parts[:3], "", "")), dict(parse_qsl(parts.query, keep_blank_values=True))


def api_url(base_url: str, path: str) -> str:
    """`path` (`/models`) joined onto the path of `base_url`, its query kept (Azure's `?api-version=...`)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


def server_root(base_url: str) -> str:
    """`http://host:port` of an OpenAI-compatible base URL (`.../v1`, query kept): where llama.cpp serves /props."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    path = path[: -len(API_SUFFIX)] if path.endswith(API_SUFFIX) else path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def response_format(form: StructuredForm, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The `response_format` field for `schema` in the endpoint's form (None: plain-prompt JSON).

    `strict` is off: strict mode (OpenAI) demands every property be required, and the update's
    properties are optional by design; servers that decode with a grammar follow the schema anyway."""
    if form == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def _headers(spec: ModelSpec) -> dict[str, str]:
    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    return {"Authorization": f"Bearer {key}"} if key else {}


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def server_context(spec: ModelSpec, client: httpx.AsyncClient) -> int | None:
    """The context the server runs the model with, if it says (llama.cpp's /props, vLLM's models list)."""
    if not spec.base_url:
        return None
    root = server_root(spec.base_url)
    try:
        props = await client.get(api_url(root, "/props"), headers=_headers(spec))
        if props.status_code == httpx.codes.OK:
            settings = props.json().get("default_generation_settings") or {}
            n_ctx = _positive_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
            if n_ctx is not None:
                return n_ctx
        models = await client.get(api_url(spec.base_url, "/models"), headers=_headers(spec))
        if models.status_code == httpx.codes.OK:
            for entry in models.json().get("data") or []:
                if isinstance(entry, dict) and entry.get("id") == spec.api_name:
                    return _positive_int(entry.get("max_model_len"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return None


WINDOW_TIMEOUT_S = 5.0
"""Timeout of `server_windows`' GETs: they run before a search says anything, and a server that accepts
connections but never answers would hold its start for the full probe timeout."""


async def server_windows(specs: Iterable[ModelSpec]) -> dict[str, int | None]:
    """The context each endpoint of its own without a declared `context_window` says it runs the model with
    (`server_context`), by model id: a search checks its graphs against it (`ModelPool.learn_windows`), as a pool
    entry's window falls back to the server's own. One free GET per endpoint, all at once; a server that does not
    say (or cannot be reached) gives None: its model stays unlimited, as the caller says (`adopt_server_windows`)."""
    todo = [s for s in specs if probes_structured(s) and s.context_window is None]
    if not todo:
        return {}
    async with httpx.AsyncClient(timeout=WINDOW_TIMEOUT_S) as client:
        found = await asyncio.gather(*(server_context(s, client) for s in todo))
    return {s.id: n for s, n in zip(todo, found)}


UNDECIDED_CAUSES = {"timeout": "timed out", "connection": "could not connect", "refused": "could not connect"}
"""Failures of a probe that say nothing of the forms the endpoint takes (`ModelCallError.cause` -> wording)."""


def probes_structured(spec: ModelSpec) -> bool:
    """Whether the structured form of `spec` is found by probing: an OpenAI-compatible endpoint of its own. Local
    models and the OpenAI API itself take `json_schema`, sim models answer task items only (`describe_endpoint`)."""
    return spec.backend == "openai" and spec.base_url is not None


async def probe_structured(model: ChatModel) -> tuple[StructuredForm, str | None]:
    """The first form `model` answers (`"none"` when it takes neither), and None; or ("none", why) when a probe
    timed out or could not connect, which says nothing of the forms it takes.

    `model` is the hub's (`ModelHub.get`): the probe is a paid call like any other, which the spend guard may
    refuse (its BudgetExceededError propagates, as do setup errors) and whose dollars go into `paid_usd`."""
    for form in FORMS:
        try:
            with single_attempt():  # a refusal is the answer: not retried like a transient failure
                await model.complete(
                    PROBE_MESSAGES,
                    temperature=0.0,
                    max_tokens=1,
                    response_format=response_format(form, "probe", PROBE_SCHEMA),
                )
        except ModelCallError as exc:
            if exc.cause in UNDECIDED_CAUSES:
                return "none", f"the structured-output probe {UNDECIDED_CAUSES[exc.cause]} ({exc})"
            continue  # refused (an HTTP status): the next form
        return form, None
    return "none", None


async def describe_endpoint(spec: ModelSpec, model: ChatModel | None = None) -> EndpointInfo:
    """Context window (pool entry, else server, else default) and structured-output form of `spec`.

    Local (in-process llama.cpp) models and the OpenAI API itself (no `base_url`) take `json_schema`
    and are described without a request; so are sim models, which answer task items only. An endpoint of
    its own is probed through `model` (`probe_structured`: a paid call, so only through the caller's model);
    without one its form is left "none" (the LLM feedback agent probes itself, step by step)."""
    if not probes_structured(spec):
        # local: in-process llama.cpp takes json_schema; no base_url: the OpenAI API itself, which does
        form: StructuredForm = "json_schema" if spec.backend in ("local", "openai") else "none"
        window = spec.context_window or DEFAULT_CONTEXT
        return EndpointInfo(window, "pool entry" if spec.context_window else "default", form)
    form, undecided = await probe_structured(model) if model is not None else ("none", None)
    if spec.context_window is not None:
        return EndpointInfo(spec.context_window, "pool entry", form, undecided)
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
        found = await server_context(spec, client)
    if found is not None:
        return EndpointInfo(found, "server", form, undecided)
    return EndpointInfo(DEFAULT_CONTEXT, "default", form, undecided)
