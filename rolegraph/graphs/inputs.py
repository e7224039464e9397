"""The input state and the run context of one graph run, and why the gold answer is only in the second.

LangGraph stores a run's input state in its checkpoints and LangSmith uploads it with every trace, so
the state holds the question, the seed and the answer kind only. The item's answer key, which only
simulated models read, rides in the `RunContext` that LangGraph passes to the run unserialised.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from rolegraph.chat.spec import ModelSpec, gold_for
from rolegraph.errors import GraphError, shown_arg
from rolegraph.graphs.budget import Budget, BudgetMeter
from rolegraph.graphs.nodes import RunContext
from rolegraph.items import Family, Item

FREE_FORM_KIND = "qa"
"""Answer kind of a free-form question: the `Final answer:` line, else the last line of text."""
FREE_FORM_FAMILY: Family = "qa"  # token profile used for the FLOPs units of a free-form run
ANSWER_KEY_FIELD = "answer_key"
ANSWER_KEY_IN_STATE = (
    "the answer key must not be in the graph's input state (checkpoints and LangSmith traces would hold the "
    "gold): pass it in the run's context, e.g. app.astream(graph_input(item), config, "
    "context=graph_context(graph, item)) from rolegraph.graphs.interop"
)
QUESTION_FIELD = "question"
SEED_FIELD = "seed"
KIND_FIELD = "answer_kind"
STATE_AND_CONTEXT = (
    "build both from the same item, e.g. graph_input(item, seed=s) and graph_context(graph, item, seed=s) "
    "from rolegraph.graphs.interop"
)
INPUT_SHAPE = (
    "pass {'question': str, 'seed': int, 'answer_kind': str}, e.g. graph_input(item_or_question) from "
    "rolegraph.graphs.interop"
)


def question_text(item: Item) -> str:
    """The question, with its lettered choices when the task keeps them apart from the text."""
    text = item.question.strip()
    if item.choices and not all(c.strip() in text for c in item.choices):
        text += "\n" + "\n".join(f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(item.choices))
    return text


def run_inputs(
    item: Item | str,
    *,
    readers: Sequence[ModelSpec],
    modelled: bool,
    budget: Budget | None = None,
    seed: int = 0,
    answer_kind: str | None = None,
    gold_leak: str | None = None,
) -> tuple[dict, RunContext, str]:
    """(input state, run context, token family) of one run. The context gets the item's answer key only
    when one of `readers` (the graph's node models) may read it (`gold_for`: a simulated one); the state never
    does. `gold_leak`: why this graph must not run with an answer key (`gold_guard.gold_leak_problem`: a real
    node reads a simulated one's output, derived from the key); an item with a gold answer is then refused
    here, where the key enters the run and before any call, while a free question still runs."""
    if isinstance(item, Item):
        question, key, family = question_text(item), item.answer_key(), item.family
        kind = answer_kind or item.family
        if gold_leak is not None and key is not None:
            raise GraphError([gold_leak])
    elif isinstance(item, str):
        question, key, family, kind = item, None, FREE_FORM_FAMILY, answer_kind or FREE_FORM_KIND
    else:
        raise TypeError(f"run input must be an Item or a question string, got {type(item).__name__}")
    inputs = {"question": question, "seed": seed, "answer_kind": kind}
    ctx = RunContext(question, gold_for(key, *readers), seed, kind, BudgetMeter(budget), modelled)
    return inputs, ctx, family


def context_without_key(inputs: dict, modelled: bool) -> RunContext:
    """The context of a run invoked without one (an app calling the Pregel directly): no answer key, and
    an input state that carries one is refused (it would be checkpointed and traced). An input that is not
    such a state (a bare string, no question string, a seed that is not a number) is the caller's one-line
    GraphError here, not a KeyError or AttributeError from inside LangGraph's task."""
    if not isinstance(inputs, Mapping):
        raise GraphError([f"the graph's input must be a dict, got {type(inputs).__name__}: {INPUT_SHAPE}"])
    if inputs.get(ANSWER_KEY_FIELD) is not None:
        raise GraphError([ANSWER_KEY_IN_STATE])
    question = inputs.get(QUESTION_FIELD)
    if not isinstance(question, str):
        got = "no 'question'" if question is None else f"a 'question' of type {type(question).__name__}, not str"
        raise GraphError([f"the graph's input has {got}: {INPUT_SHAPE}"])
    try:
        seed = int(inputs.get(SEED_FIELD, 0))
    except (TypeError, ValueError):
        got = type(inputs.get(SEED_FIELD)).__name__
        raise GraphError([f"the graph's input 'seed' must be an integer, got {got}: {INPUT_SHAPE}"]) from None
    return RunContext(
        question=question,
        answer_key=None,
        seed=seed,
        kind=inputs.get(KIND_FIELD) or FREE_FORM_KIND,
        meter=BudgetMeter(None),
        modelled=modelled,
    )


def check_state_agrees(inputs: object, questions: Collection[str], seed: int, kind: str) -> None:
    """Refuse a run whose input state and run context name different runs. The nodes read the context (it
    holds the answer key, which the state must not), so a state's question, seed or answer kind that differs
    from the context's would be silently ignored: a caller who passed `graph_input(a)` with
    `graph_context(graph, b)` would get b's answer. `questions`: the forms of the context's question a state may
    carry (a router's own input holds an item's bare question); a field the state leaves out is not compared."""
    if not isinstance(inputs, Mapping):
        return
    differ: list[str] = []
    question = inputs.get(QUESTION_FIELD)
    if question is not None and question not in questions:
        differ.append(f"question {shown_arg(question)} vs {shown_arg(next(iter(questions), None))}")
    state_seed = inputs.get(SEED_FIELD)
    if state_seed is not None and state_seed != seed:
        differ.append(f"seed {shown_arg(state_seed)} vs {seed}")
    state_kind = inputs.get(KIND_FIELD)
    if state_kind is not None and state_kind != kind:
        differ.append(f"answer_kind {shown_arg(state_kind)} vs {shown_arg(kind)}")
    if differ:
        raise GraphError(
            [
                f"the graph's input state and its run context disagree (state vs context: {'; '.join(differ)}): "
                f"{STATE_AND_CONTEXT}"
            ]
        )
