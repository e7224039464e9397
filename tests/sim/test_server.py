"""serve-sim over real HTTP (httpx): the OpenAI wire format, its clean errors, and each injected fault."""
from __future__ import annotations

import httpx
import pytest
from openai.types.chat import ChatCompletion

from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.sim.faults import FAULT_KINDS, FaultConfig, FaultConfigError, FaultPlan
from tests.models.conftest import SIM_ID, task_calls


def _body(model: str = SIM_ID, with_key: bool = True, **extra) -> dict:
    messages, key = task_calls(1)[0]
    body = {"model": model, "messages": messages, "temperature": 0.0, "max_tokens": 128, "seed": 5, **extra}
    if with_key:
        body["rolegraph"] = {"answer_key": key.model_dump(), "sample": 0}
    return body


def _post(base_url: str, body: dict | bytes, timeout: float = 10.0, client: httpx.Client | None = None) -> httpx.Response:
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    return (client or httpx).post(f"{base_url}/chat/completions", timeout=timeout, **kwargs)


def test_models_lists_only_the_sim_models(server):
    data = httpx.get(f"{server.base_url}/models").json()
    ids = [m["id"] for m in data["data"]]
    sims = [s.id for s in ModelPool.builtin() if s.backend == "sim"]
    assert data["object"] == "list" and sorted(ids) == sorted(sims)
    assert all(m["object"] == "model" for m in data["data"])


def test_completion_is_a_valid_openai_chat_completion(server):
    resp = _post(server.base_url, _body())
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    completion = ChatCompletion.model_validate(resp.json())  # strict validation, not the client's lenient one
    assert completion.object == "chat.completion" and completion.model == SIM_ID
    assert completion.choices[0].message.content and completion.choices[0].message.role == "assistant"
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_short_name_and_full_id_give_the_same_answer(server):
    full = _post(server.base_url, _body(SIM_ID)).json()
    short = _post(server.base_url, _body(SIM_ID.split("/", 1)[1])).json()
    assert full["choices"][0]["message"]["content"] == short["choices"][0]["message"]["content"]


def test_sample_index_and_seed_reach_the_sim(server):
    with httpx.Client() as client:
        def text(**kw):
            body = _body(temperature=1.0, max_tokens=1024)  # the whole reply: at 128 it is cut before the answer
            body.update(kw.pop("top", {}))
            body["rolegraph"].update(kw)
            return _post(server.base_url, body, client=client).json()["choices"][0]["message"]["content"]

        assert text(sample=0) == text(sample=0)  # deterministic
        distinct = {text(sample=i) for i in range(10)} | {text(top={"seed": s}) for s in range(10)}
    assert len(distinct) > 1  # sample and seed are used, not dropped on the way


@pytest.mark.parametrize("body, status, needle", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    ("stream", 400, "stream"),
    ("no-messages", 400, "messages"),
    ("unknown-model", 404, "sim/llama-3.2-3b"),
    ("bad-key", 400, "bad request field"),
])
def test_bad_requests_get_clean_openai_errors(server, body, status, needle):
    if body == "stream":
        body = _body(stream=True)
    elif body == "no-messages":
        body = {**_body(), "messages": []}
    elif body == "unknown-model":
        body = _body("sim/llama-9b")
    elif body == "bad-key":
        body = {**_body(), "rolegraph": {"answer_key": {"gold": "1"}}}
    resp = _post(server.base_url, body)
    assert resp.status_code == status
    error = resp.json()["error"]
    assert needle in error["message"] and "\n" not in error["message"]


def test_missing_answer_key_returns_the_sims_refusal(server):
    resp = _post(server.base_url, _body(with_key=False))
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "no_answer_key" and "local/smollm2-135m" in error["message"]


def test_pool_file_sim_entries_are_served(serve):
    extra = ModelSpec(id="sim/custom-2b", backend="sim", params_b=2.0, layers=20, hidden=2048)
    server = serve(pool=ModelPool(list(ModelPool.builtin()) + [extra]))
    assert "sim/custom-2b" in {m["id"] for m in httpx.get(f"{server.base_url}/models").json()["data"]}
    assert _post(server.base_url, _body("sim/custom-2b")).status_code == 200


def _kind_of(resp: httpx.Response | Exception) -> str:
    if isinstance(resp, httpx.ReadTimeout):
        return "timeout"
    if isinstance(resp, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "reset"
    if resp.status_code != 200:
        return str(resp.status_code)
    try:
        data = resp.json()
    except ValueError:
        return "garbage" if not resp.headers["content-type"].startswith("application/json") else "truncated"
    return "empty" if data["choices"] == [] else "ok"


def _observe(base_url: str, timeout: float = 2.0, client: httpx.Client | None = None) -> str:
    try:
        return _kind_of(_post(base_url, _body(), timeout=timeout, client=client))
    except httpx.HTTPError as exc:
        return _kind_of(exc)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_looks_like_the_real_failure(serve, kind):
    server = serve(FaultConfig(rate=1.0, kinds=[kind], timeout_s=5.0, retry_after_s=2.0))
    if kind == "429":
        resp = _post(server.base_url, _body())
        assert resp.headers["retry-after"] == "2" and resp.headers["retry-after-ms"] == "2000"
    assert _observe(server.base_url, timeout=0.5 if kind == "timeout" else 5.0) == kind
    assert server.app.state.stats.faults[kind] >= 1 and server.app.state.stats.completions == 0


def test_fault_sequence_is_seeded(serve):
    kinds = ["429", "500", "503", "garbage", "empty"]
    runs = []
    for seed in (11, 11, 12):
        server = serve(FaultConfig(rate=0.5, kinds=kinds, seed=seed))
        with httpx.Client() as client:
            runs.append([_observe(server.base_url, client=client) for _ in range(24)])
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert "ok" in runs[0] and len(set(runs[0])) > 2


def test_fault_plan_draws_match_the_rate():
    plan = FaultPlan(FaultConfig(rate=0.3, seed=1))
    draws = [plan.next_fault() for _ in range(4000)]
    share = sum(d is not None for d in draws) / len(draws)
    assert 0.27 < share < 0.33
    assert {d for d in draws if d} == set(FAULT_KINDS)
    assert FaultPlan(None).next_fault() is None


@pytest.mark.parametrize("kwargs, needle", [
    ({"rate": 1.5}, "between 0 and 1"),
    ({"rate": -0.1}, "between 0 and 1"),
    ({"rate": 0.2, "kinds": ["429", "boom"]}, "boom"),
    ({"rate": 0.2, "kinds": []}, "at least one"),
    ({"rate": 0.2, "timeout_s": 0}, "timeout"),
])
def test_bad_fault_config_is_one_clear_line(kwargs, needle):
    with pytest.raises(FaultConfigError, match=needle) as err:
        FaultConfig(**kwargs)
    assert "\n" not in str(err.value)


def test_fault_config_parse_reads_cli_text():
    assert FaultConfig.parse(0.3, "429, timeout,reset").kinds == ["429", "timeout", "reset"]
    assert FaultConfig.parse(0.3, None).kinds == list(FAULT_KINDS)
    with pytest.raises(FaultConfigError, match="nope"):
        FaultConfig.parse(0.3, "429,nope")


def test_finish_reason_reports_a_reply_cut_at_max_tokens(server):
    """The sim's own reply decides: cut at a tiny max_tokens -> "length"; with room -> "stop"."""
    with httpx.Client() as client:
        cut = ChatCompletion.model_validate(_post(server.base_url, _body(max_tokens=4), client=client).json())
        whole = ChatCompletion.model_validate(_post(server.base_url, _body(max_tokens=4096), client=client).json())
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens <= 4
    assert whole.choices[0].finish_reason == "stop"
    assert whole.choices[0].message.content.startswith(cut.choices[0].message.content)
    assert whole.usage.completion_tokens > cut.usage.completion_tokens


def test_n_choices_are_the_replies_to_each_sample(server):
    """Choice i of an `n` request is exactly the reply to a plain request with sample i; the prompt counts once."""
    with httpx.Client() as client:
        def reply(extra: dict, n: int | None = None) -> dict:
            body = _body(temperature=1.0, max_tokens=1024, **({"n": n} if n else {}))
            body["rolegraph"].update(extra)
            return _post(server.base_url, body, client=client).json()

        many = reply({"samples": [7, 3, 9]}, n=3)
        singles = [reply({"sample": s}) for s in (7, 3, 9)]
        counted = reply({"sample": 4}, n=2)  # no list: the request's sample and the next ones
        following = [reply({"sample": s}) for s in (4, 5)]
    ChatCompletion.model_validate(many)
    assert [c["index"] for c in many["choices"]] == [0, 1, 2]
    texts = [c["message"]["content"] for c in many["choices"]]
    assert texts == [s["choices"][0]["message"]["content"] for s in singles]
    assert many["usage"]["prompt_tokens"] == singles[0]["usage"]["prompt_tokens"]
    assert many["usage"]["completion_tokens"] == sum(s["usage"]["completion_tokens"] for s in singles)
    assert many["rolegraph"]["choice_tokens"] == [s["usage"]["completion_tokens"] for s in singles]
    assert [c["message"]["content"] for c in counted["choices"]] == [
        f["choices"][0]["message"]["content"] for f in following]


@pytest.mark.parametrize("n", [0, 129, "2", True, 1.5])
def test_bad_n_is_a_clean_400(server, n):
    resp = _post(server.base_url, _body(n=n))
    assert resp.status_code == 400 and "'n' must be an integer" in resp.json()["error"]["message"]


def test_a_world_is_served_and_named_in_every_body(serve):
    """serve-sim --world N: its answers are world N's, and the `rolegraph` mark says which world."""
    bodies = {}
    for w in (0, 6):
        srv = serve(pool=ModelPool.builtin(world=w))
        assert httpx.get(f"{srv.base_url}/models").json()["rolegraph"]["world"] == w
        replies = []
        for messages, key in task_calls(30):
            body = {"model": SIM_ID, "messages": messages, "temperature": 0.0, "max_tokens": 1024,
                    "rolegraph": {"answer_key": key.model_dump(), "sample": 0}}
            data = _post(srv.base_url, body).json()
            assert data["rolegraph"]["world"] == w and data["rolegraph"]["simulated"] is True
            replies.append(data["choices"][0]["message"]["content"])
        bodies[w] = replies
    assert bodies[0] != bodies[6]


class _Served:
    """Not a ModelPool: just the specs and a world, which is all serve-sim asks of what it serves."""

    def __init__(self, specs: list[ModelSpec], world: int):
        self._specs, self.world = specs, world

    def __iter__(self):
        return iter(self._specs)


def test_serves_any_specs_with_a_world_not_only_a_pool(tmp_path):
    from rolegraph.settings import Settings
    from rolegraph.sim.server import ServerThread, create_app

    sim = ModelSpec(id="mine/tiny-sim", backend="sim", params_b=1.0, layers=16, hidden=2048, world=3)
    real = ModelSpec(id="mine/real", backend="openai", base_url="http://127.0.0.1:9/v1")
    served = _Served([sim, real], world=3)
    with ServerThread(create_app(served, Settings(home=tmp_path, cache=False))) as srv:
        listing = httpx.get(f"{srv.base_url}/models").json()
        reply = _post(srv.base_url, _body("tiny-sim"))  # by its short name too
        unknown = _post(srv.base_url, _body("mine/real"))
    assert [m["id"] for m in listing["data"]] == ["mine/tiny-sim"]  # real models are not served
    assert listing["rolegraph"] == {"simulated": True, "world": 3}
    assert reply.status_code == 200 and reply.json()["model"] == "mine/tiny-sim"
    assert reply.json()["rolegraph"]["world"] == 3
    assert unknown.status_code == 404 and "mine/tiny-sim" in unknown.json()["error"]["message"]
