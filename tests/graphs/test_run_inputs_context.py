"""What one run's input state and context hold (`graphs.inputs`): lettered choices are added only when the question
does not already hold them; an answer kind given wins over the item's family; the answer key is in the context only
when a node's model may read it (a simulated one), never for real models alone; a graph that must not run with a key
refuses an item that has one and runs one that has none; an input state carrying a key is refused."""
import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import GraphError
from rolegraph.graphs.inputs import context_without_key, question_text, run_inputs
from rolegraph.items import Item
from rolegraph.models.pool import ModelPool

REAL = ModelSpec(id="openai/gpt-x", backend="openai", base_url="https://api.example.com/v1", model="gpt-x")


def test_choices_are_added_only_when_the_question_lacks_them():
    bare = Item(id="m1", question="Which is a prime?", gold="B", family="mmlu", choices=["4", "7"])
    assert question_text(bare) == "Which is a prime?\nA. 4\nB. 7"
    inline = Item(id="m2", question="Which is a prime? (4) or (7)", gold="B", family="mmlu", choices=["4", "7"])
    assert question_text(inline) == "Which is a prime? (4) or (7)"


def test_an_answer_kind_given_wins_over_the_items_family():
    item = Item(id="q1", question="What is 2 + 2?", gold="4", family="math")
    inputs, ctx, family = run_inputs(item, readers=[REAL], modelled=False, answer_kind="qa")
    assert (inputs["answer_kind"], ctx.kind, family) == ("qa", "qa", "math")


def test_the_answer_key_rides_in_the_context_only_for_a_simulated_reader():
    item = Item(id="q1", question="What is 2 + 2?", gold="4", family="math")
    sim = ModelPool.builtin().get("sim/llama-3.2-1b")
    assert run_inputs(item, readers=[REAL], modelled=False)[1].answer_key is None
    assert run_inputs(item, readers=[REAL, sim], modelled=False)[1].answer_key is not None


def test_a_graph_that_must_not_read_a_key_refuses_an_item_with_one_and_runs_one_without():
    with pytest.raises(GraphError, match="leaks"):
        run_inputs(Item(id="q1", question="2 + 2?", gold="4", family="math"), readers=[REAL], modelled=False,
                   gold_leak="leaks the gold")
    inputs, ctx, _ = run_inputs(Item(id="q2", question="2 + 2?", family="math"), readers=[REAL], modelled=False,
                                gold_leak="leaks the gold")
    assert inputs["question"] == "2 + 2?" and ctx.answer_key is None


def test_an_input_state_with_an_answer_key_is_refused():
    with pytest.raises(GraphError, match="answer key must not be in the graph's input state"):
        context_without_key({"question": "2 + 2?", "answer_key": "4"}, modelled=False)
