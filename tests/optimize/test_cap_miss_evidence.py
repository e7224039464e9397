"""`Objective.cap_miss` decides "the chosen graph met the cap where it was chosen" from the chosen graph's own
selection figures, and "no graph met it" from the searched graphs only: a single-model baseline within the cap
used to make a search that met it nowhere say its choice had met it when chosen. Such a baseline is named."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rolegraph.optimize.objectives import Objective


def fig(latency_s: float = 1.0, dollars: float = 1e-5, **extra) -> SimpleNamespace:
    return SimpleNamespace(latency_s=latency_s, dollars=dollars, **extra)


def single(label: str, accuracy: float, latency_s: float = 1.0, dollars: float = 1e-5) -> SimpleNamespace:
    return fig(latency_s, dollars, label=label, accuracy=accuracy)


COST = Objective.build("accuracy", cost_cap=2e-5)
LATENCY = Objective.build("accuracy", latency_cap=2.0)


def test_met_where_it_was_chosen_and_over_on_test_items():
    note = COST.cap_miss(fig(dollars=5.7e-5), [fig(dollars=6e-5)], selected=fig(dollars=1.9e-5))
    assert note == "the chosen graph's test cost $5.7e-05 per item is over the cost cap of $2e-05, which it met on " \
                   "the items it was chosen on"
    note = LATENCY.cap_miss(fig(2.2), [fig(3.0)], selected=fig(1.8))
    assert note == "the chosen graph's test latency 2.20 s/item is over the latency cap of 2 s, which it met on the " \
                   "items it was chosen on"


def test_a_single_within_the_cap_is_named_not_taken_for_the_chosen_graph():
    """The reported case: every searched graph over the cap, the chosen one too where it was chosen; a single-model
    baseline under it."""
    singles = [single("sim/llama-3.1-8b", 0.45, dollars=7e-5), single("sim/llama-3.2-1b", 0.36, dollars=8.611e-6),
               single("sim/llama-3.2-3b", 0.40, dollars=1.9e-5)]
    note = COST.cap_miss(fig(dollars=5.745e-5), [fig(dollars=5.62338e-5), fig(dollars=9e-5)],
                         selected=fig(dollars=5.7e-5), singles=singles)
    assert note == "no searched graph met the cost cap of $2e-05 per item (best: $5.62338e-05 per item); the single " \
                   "model sim/llama-3.2-3b meets it ($1.9e-05 per item on the test items)"  # the most accurate within
    note = LATENCY.cap_miss(fig(5.0), [fig(4.0)], selected=fig(4.5), singles=[single("sim/llama-3.2-1b", 0.3, 1.2)])
    assert note == "no searched graph met the latency cap of 2 s (best: 4.00 s/item); the single model " \
                   "sim/llama-3.2-1b meets it (1.20 s/item on the test items)"
    assert "met on the items it was chosen on" not in note


@pytest.mark.parametrize("objective, chosen, scored, selected, best", [
    (COST, fig(dollars=5e-5), [fig(dollars=4e-5)], fig(dollars=4.5e-5), "$4e-05 per item"),
    (LATENCY, fig(5.0), [fig(4.0)], fig(4.5), "4.00 s/item"),
])
def test_no_graph_and_no_single_met_it(objective, chosen, scored, selected, best):
    over = [single("sim/llama-3.1-8b", 0.5, 9.0, 9e-5)]
    note = objective.cap_miss(chosen, scored, selected=selected, singles=over)
    cap = "the cost cap of $2e-05 per item" if objective is COST else "the latency cap of 2 s"
    assert note == f"no graph met {cap} (best: {best})"


def test_a_searched_graph_met_it_on_training_items_but_not_the_chosen_one():
    note = COST.cap_miss(fig(dollars=3e-5), [fig(dollars=1e-5), fig(dollars=3e-5)], selected=fig(dollars=2.5e-5))
    assert note == "the chosen graph's test cost $3e-05 per item is over the cost cap of $2e-05, as it was on the " \
                   "items it was chosen on ($2.5e-05 per item); a searched graph met it on its training items " \
                   "(best: $1e-05 per item)"
    note = LATENCY.cap_miss(fig(2.5), [fig(1.5)], selected=fig(2.4))
    assert note is not None and note.startswith("the chosen graph's test latency 2.50 s/item is over the latency cap "
                                                "of 2 s, as it was on the items it was chosen on (2.40 s/item)")


def test_within_the_cap_on_test_items_says_nothing():
    assert COST.cap_miss(fig(dollars=1e-5), [fig(dollars=9e-5)], selected=fig(dollars=9e-5)) is None
    assert LATENCY.cap_miss(fig(1.0), selected=fig(3.0), singles=[single("s", 0.1, 9.0)]) is None
