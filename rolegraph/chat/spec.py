"""`ModelSpec`: one entry of a model pool, with what the budget needs (size) and the bill needs (prices).

Part of the chat-model contract (see `rolegraph.chat`): the simulator reads it as much as the real backends."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from typing import Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from rolegraph.chat.secret_shape import TOKEN_SHAPE_WORDS, looks_like_secret
from rolegraph.items import AnswerKey

Backend = Literal["openai", "sim", "local"]
LOOPBACK_NAMES = frozenset({"localhost"})
"""Host names taken as loopback without resolving them (addresses are checked: 127.0.0.0/8, ::1)."""
URL_SCHEMES = frozenset({"http", "https"})
"""What an OpenAI-compatible `base_url` may start with: anything else (no scheme, ftp://) never connects."""
OPENAI_API_URL = "https://api.openai.com/v1"
"""Where an `openai` entry without a `base_url` goes: only the built-in `openai/*` entries rely on it (a user's
pool file must write it out); the backend passes it explicitly, so $OPENAI_BASE_URL never redirects a call."""
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An environment variable's name: what `api_key_env` must hold (never the key itself)."""
MAX_RETRIES_CAP = 20  # a pool entry's `max_retries` above this is a typo, not a policy
EXTRA_FIELD = "rolegraph"
"""The request/reply body field serve-sim reads the answer key from (requests to serve-sim twins only) and marks
its replies with. Defined here, below both `sim` (the server) and `models` (the client), so the two cannot
drift apart: a renamed field on one side alone would silently drop the answer key."""
TOKENS_PER_PRICE_UNIT = 1e6  # pool prices are dollars per million tokens
URL_HASH_CHARS = 12  # of a URL's sha256 in `url_identity`: tells endpoints apart, never spells a secret
# Upper bounds of a pool entry's sizes and prices. Each lies orders of magnitude beyond any real model, so only a
# typo (an exponent too many, a price per token written per million) reaches one; without them such a value made
# 30-digit FLOPs figures, or an overflow where a cost is printed (1e308 * tokens is infinite).
MAX_PRICE_PER_M = 1e6  # dollars per 1M tokens, i.e. $1 a token; the dearest listed models charge hundreds per 1M
MAX_PARAMS_B = 1e6  # billions of parameters (a quadrillion); the largest models are a few thousand billion
MAX_LAYERS = 100_000  # the deepest transformers have a few hundred layers
MAX_HIDDEN = 10_000_000  # the widest hidden sizes are a few tens of thousands


def is_loopback_url(url: str | None) -> bool:
    """Does `url` name this machine's loopback interface (127.0.0.0/8, ::1 or localhost), and nothing else?"""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(url: str | None) -> str | None:
    """`url` as it may be shown or stored: scheme, host, port and path, never credentials (`user:pass@`) or a
    query or fragment (some providers take a key there, `?key=...`). Error messages, logs, provenance and
    timings.sqlite outlive the pool file and travel further, so they get this form. None for no URL or one
    that does not parse."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if ":" in host:  # an IPv6 address goes back in brackets
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def has_secret_parts(url: str) -> bool:
    """Might `url` carry a secret: userinfo, a query or a fragment (what `public_url` leaves out)?"""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True  # unparsable: nothing says where a secret could not be
    return "@" in parts.netloc or "?" in url or "#" in url


def url_secrets(url: str) -> list[str]:
    """The values in `url` that may be secret (userinfo's user and password, the query's values), longest
    first, for scrubbing text that quotes them; empty when the URL does not parse."""
    try:
        parts = urlsplit(url)
        found = [parts.username, parts.password, *(value for _, value in parse_qsl(parts.query))]
    except ValueError:
        return []
    return sorted({s for s in found if s}, key=len, reverse=True)


def url_identity(url: str) -> str:
    """A storable key for `url`: the URL itself when it has no credentials, query or fragment (so keys made
    before this existed still match), else its public form plus a short hash of the whole, so that two URLs
    differing only there stay apart while nothing secret is written out."""
    if not has_secret_parts(url):
        return url
    digest = hashlib.sha256(url.encode()).hexdigest()[:URL_HASH_CHARS]
    return f"{public_url(url) or 'url'}#{digest}"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint's `base_url` (None when it can): http(s), with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in URL_SCHEMES:
        shown = f"'{parts.scheme}://'" if parts.scheme and "://" in url else "no scheme"
        return f"must start with http:// or https:// (has {shown}), e.g. http://127.0.0.1:8000/v1"
    if not host:
        return "has no host, e.g. http://127.0.0.1:8000/v1"
    return None


class ModelSpec(BaseModel):
    # inputs stay out of validation messages: a key pasted where its variable's name belongs is never echoed
    # no float field takes inf or NaN: a price, size or timeout of inf is a typo that surfaced only as an overflow
    # (or an "inf FLOPs" budget) far from the pool file
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, allow_inf_nan=False)

    id: str
    backend: Backend
    base_url: str | None = None
    model: str | None = Field(default=None, description="name sent to the server (default: id after '/')")
    api_key_env: str | None = Field(default=None, description="NAME of the env var holding the key")
    params_b: float | None = Field(default=None, gt=0, le=MAX_PARAMS_B, description="parameters, billions")
    layers: int | None = Field(default=None, gt=0, le=MAX_LAYERS)
    hidden: int | None = Field(default=None, gt=0, le=MAX_HIDDEN)
    price_in: float = Field(default=0.0, ge=0, le=MAX_PRICE_PER_M, description="dollars per 1M input tokens")
    price_out: float = Field(default=0.0, ge=0, le=MAX_PRICE_PER_M, description="dollars per 1M output tokens")
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="tokens the model reads and writes per call; None = not stated (a server's own, e.g. "
        "llama.cpp's /props n_ctx, is asked for where it matters, else a default)",
    )
    max_concurrency: int = Field(default=8, gt=0)
    timeout_s: float | None = Field(
        default=None, gt=0, description="openai backend: seconds one attempt may take (default 120)"
    )
    max_retries: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETRIES_CAP,
        description="openai backend: retries of a transient failure after the first attempt (default 5)",
    )
    answer_key: bool = Field(
        default=False,
        description="a serve-sim twin: send the sim's answer key in the request body (loopback endpoints only)",
    )
    logprobs: bool = Field(
        default=False,
        description="request token log-probabilities (a router's confidence signal); the endpoint must return them",
    )
    sim_accuracy: dict[str, float] | None = Field(
        default=None, description="sim only: single-model accuracy per family, overriding the size interpolation"
    )
    world: int = Field(
        default=0,
        ge=0,
        description="sim only: the seeded world the model lives in; set once for a whole pool (`world:` at the "
        "top of a pool file, or --world), never per entry",
    )

    @field_validator("id")
    @classmethod
    def _id_is_not_blank(cls, value: str) -> str:
        """A blank id lists as an empty row and matches a node whose model is blank: never a model meant."""
        if not value.strip():
            raise ValueError("a model id cannot be empty, e.g. id: my/qwen-7b")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_connects(cls, value: str | None) -> str | None:
        """A URL the client cannot connect to (no scheme, ftp://) would fail only after every retry."""
        if value is None:
            return value
        problem = url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("api_key_env")
    @classmethod
    def _key_env_is_a_name(cls, value: str | None) -> str | None:
        """The NAME of a variable: anything else is most likely the key pasted in, which must not be shown."""
        if value is not None and not ENV_NAME.fullmatch(value):
            raise ValueError(
                "must be the NAME of an environment variable (letters, digits, _), not the key itself; "
                "put the key in that variable"
            )
        if value is not None and looks_like_secret(value):  # a valid identifier, yet shaped like a key: not repeated
            raise ValueError(
                f"has the shape of a key ({TOKEN_SHAPE_WORDS}), not of a variable's name: put the key in an "
                "environment variable of yours and give that variable's name"
            )
        return value

    @field_validator("answer_key")
    @classmethod
    def _answer_key_stays_home(cls, value: bool, info: ValidationInfo) -> bool:
        """Gold answers never leave the machine: only a serve-sim twin on loopback may be sent them."""
        if not value:
            return value
        backend, url = info.data.get("backend"), info.data.get("base_url")
        if backend == "local":
            raise ValueError("answer_key is for serve-sim twins (backend: openai on a loopback URL), not local models")
        if backend == "openai" and not is_loopback_url(url):
            raise ValueError(
                f"answer_key: true sends gold answers in request bodies, so it is accepted only for a serve-sim "
                "twin on a loopback endpoint (127.0.0.0/8, ::1, localhost), "
                f"not {public_url(url) or 'a missing base_url'}"
            )
        return value

    @property
    def endpoint(self) -> str | None:
        """The URL calls go to: `base_url`, or OpenAI's own API for an `openai` entry without one."""
        if self.base_url is None and self.backend == "openai":
            return OPENAI_API_URL
        return self.base_url

    @property
    def public_endpoint(self) -> str | None:
        """`endpoint` as messages, logs and stored records show it (`public_url`: no credentials, no query)."""
        return public_url(self.endpoint)

    @property
    def api_name(self) -> str:
        return self.model or self.id.split("/", 1)[-1]

    @property
    def simulated(self) -> bool:
        """A simulated model: the sim backend, or a serve-sim twin (`answer_key` on a loopback endpoint).
        Only these may read an item's answer key; for every other model the scorer alone sees the gold."""
        return self.backend == "sim" or self.answer_key

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in + output_tokens * self.price_out) / TOKENS_PER_PRICE_UNIT

    def key_present(self) -> bool:
        return self.api_key_env is None or bool(os.environ.get(self.api_key_env))


def gold_for(answer_key: AnswerKey | None, *readers: ModelSpec) -> AnswerKey | None:
    """The answer key the model(s) of `readers` may be handed: the item's gold when one of them is simulated (the
    sim backend, or a serve-sim twin that `ModelSpec` has checked is on loopback), else None.

    The one place that decides who reads the gold; the hub, the response cache (its calls and its keys), the
    OpenAI backend's request body and a graph's run context all ask it. Gold answers never leave the process for
    a real endpoint: a real model's reply cannot depend on the key, so handing it one only puts the gold where
    third parties keep it (a provider's request logs, a cache file, a trace). One function, so a new call path
    cannot get the rule subtly different (e.g. by testing `answer_key` where `simulated` is meant)."""
    return answer_key if any(spec.simulated for spec in readers) else None
