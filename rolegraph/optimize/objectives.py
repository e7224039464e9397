"""What a search maximises: accuracy, accuracy jointly with latency, or accuracy under a cap.

Every objective maps (accuracy, mean latency in seconds, dollars per item) to one number, higher
is better. Capped objectives rank every graph that meets the cap above every graph that misses
it (a miss scores `accuracy - 1 - overshoot`), so "best accuracy under a latency cap" is exact
lexicographic ranking, not a soft penalty that a very accurate slow graph could buy its way out of.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rolegraph.errors import SearchError

ObjectiveKind = Literal["accuracy", "joint", "latency_cap", "cost_cap"]
OBJECTIVE_KINDS: tuple[str, ...] = ("accuracy", "joint", "latency_cap", "cost_cap")
INFEASIBLE_OFFSET = 1.0
"""Accuracy is in [0, 1]: subtracting 1 puts every capped-out graph below every feasible one."""
DEFAULT_LATENCY_WEIGHT = 0.1


class Figures(Protocol):
    """A scored graph's mean latency (s per item) and cost ($ per item): a TestScore or a ParetoPoint."""

    @property
    def latency_s(self) -> float: ...

    @property
    def dollars(self) -> float: ...


class Objective(BaseModel):
    """`kind` with its knobs. `latency_ref` (seconds) normalises latency for `joint`; the search
    space fills it in (one node of its largest model) when it is None."""

    model_config = ConfigDict(extra="forbid")

    kind: ObjectiveKind = "accuracy"
    # finite only: an infinite cap caps nothing and an infinite weight or reference makes every value nan
    latency_weight: float = Field(default=DEFAULT_LATENCY_WEIGHT, ge=0, allow_inf_nan=False)
    latency_cap: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="seconds per item")
    cost_cap: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="dollars per item")
    latency_ref: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="seconds; normaliser")

    @model_validator(mode="after")
    def _caps_present(self) -> Objective:
        if self.kind == "latency_cap" and self.latency_cap is None:
            raise ValueError("the latency_cap objective needs latency_cap (seconds)")
        if self.kind == "cost_cap" and self.cost_cap is None:
            raise ValueError("the cost_cap objective needs cost_cap (dollars per item)")
        return self

    @classmethod
    def build(
        cls,
        kind: str = "accuracy",
        *,
        latency_weight: float | None = None,
        latency_cap: float | None = None,
        cost_cap: float | None = None,
    ) -> Objective:
        """From CLI-style options: `accuracy` with a cap becomes the capped objective."""
        if kind not in ("accuracy", "joint", "latency_cap", "cost_cap"):
            raise SearchError(f"unknown objective '{kind}'. Known: {', '.join(OBJECTIVE_KINDS)}.")
        resolved = cast(ObjectiveKind, kind)  # checked against the four kinds just above
        _check_combination(resolved, latency_weight, latency_cap, cost_cap)
        if resolved == "accuracy" and latency_cap is not None:
            resolved = "latency_cap"
        elif resolved == "accuracy" and cost_cap is not None:
            resolved = "cost_cap"
        for option, given in (
            ("--latency-weight", latency_weight),
            ("--latency-cap", latency_cap),
            ("--cost-cap", cost_cap),
        ):
            if isinstance(given, float) and not math.isfinite(given):  # nan compares false with every bound below
                raise SearchError(f"{option} must be a finite number, got {given:g}")
        if latency_weight is not None and latency_weight < 0:
            raise SearchError(f"the latency weight must be >= 0, got {latency_weight}")
        for name, cap in (("latency cap", latency_cap), ("cost cap", cost_cap)):
            if cap is not None and cap <= 0:
                raise SearchError(f"the {name} must be positive, got {cap}")
        try:
            return cls(
                kind=resolved,
                latency_weight=DEFAULT_LATENCY_WEIGHT if latency_weight is None else latency_weight,
                latency_cap=latency_cap,
                cost_cap=cost_cap,
            )
        except ValidationError as exc:  # its text ends in a link to pydantic's docs: the problems alone are shown
            raise SearchError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from None

    def value(self, accuracy: float, latency_s: float, dollars: float) -> float:
        """The objective of a graph with this mean accuracy, latency (s) and cost ($ per item)."""
        if self.kind == "accuracy":
            return accuracy
        if self.kind == "joint":
            ref = self.latency_ref or 1.0
            return accuracy - self.latency_weight * latency_s / ref
        if self.kind == "latency_cap":
            cap = float(self.latency_cap or 0.0)
            return accuracy if latency_s <= cap else accuracy - INFEASIBLE_OFFSET - (latency_s - cap) / cap
        cap = float(self.cost_cap or 0.0)
        return accuracy if dollars <= cap else accuracy - INFEASIBLE_OFFSET - (dollars - cap) / cap

    def cap_miss(
        self,
        chosen: Figures,
        scored: Iterable[Figures] = (),
        *,
        selected: Figures | None = None,
        singles: Iterable[Figures] = (),
    ) -> str | None:
        """None if the `chosen` graph's test figures (mean latency, $ per item) meet this objective's cap, else one
        line saying why the search returned a graph over it. Capped ranking puts the least-bad graph first when none
        is feasible, so without this line an impossible cap would look like a success.

        `scored`: the searched graphs' figures on their training items; `selected`: the chosen graph's own figures
        on the items it was chosen on (training and validation). Only these say whether the search found a graph
        within the cap: the single-model baselines (`singles`: test figures, with their `label`) were never
        candidates, and counting them had a search that met the cap nowhere say its choice met it when chosen.
        A baseline within the cap is named instead (it is what the search could not find). Without `selected`,
        the chosen graph is taken to have met the cap when a searched graph did (capped ranking puts those first)."""
        terms = self._cap_terms()
        if terms is None:
            return None
        cap, figure, show, what, the_cap, per = terms
        if figure(chosen) <= cap:
            return None
        searched = [figure(f) for f in scored] + ([figure(selected)] if selected is not None else [])
        met_when_chosen = any(v <= cap for v in searched) if selected is None else figure(selected) <= cap
        over = f"the chosen graph's test {what} {show(figure(chosen))} is over {the_cap}"
        if met_when_chosen:  # within the cap on the items it was chosen on; over it on the test items
            return f"{over}, which it met on the items it was chosen on"
        best = min(searched, default=figure(chosen))
        if best <= cap and selected is not None:  # a graph within it on training items lost on validation items
            return (
                f"{over}, as it was on the items it was chosen on ({show(figure(selected))}); a searched graph met "
                f"it on its training items (best: {show(best)})"
            )
        within = [f for f in singles if figure(f) <= cap]
        if not within:
            return f"no graph met {the_cap}{per} (best: {show(best)})"
        single = max(within, key=lambda f: float(getattr(f, "accuracy", 0.0)))
        return (
            f"no searched graph met {the_cap}{per} (best: {show(best)}); the single model "
            f"{getattr(single, 'label', '?')} meets it ({show(figure(single))} on the test items)"
        )

    def _cap_terms(self) -> tuple[float, Callable[[Figures], float], Callable[[float], str], str, str, str] | None:
        """(cap, the figure it caps, how a figure reads, what is capped, 'the ... cap of X', unit after X) for a
        capped objective; None for the others."""
        if self.kind == "latency_cap" and self.latency_cap is not None:
            return (
                self.latency_cap,
                lambda f: float(f.latency_s),
                lambda v: f"{v:.2f} s/item",
                "latency",
                f"the latency cap of {self.latency_cap:g} s",
                "",
            )
        if self.kind == "cost_cap" and self.cost_cap is not None:
            return (
                self.cost_cap,
                lambda f: float(f.dollars),
                lambda v: f"${v:.6g} per item",
                "cost",
                f"the cost cap of ${self.cost_cap:g}",
                " per item",
            )
        return None

    def describe(self) -> str:
        if self.kind == "accuracy":
            return "accuracy"
        if self.kind == "joint":
            return (
                f"accuracy - {self.latency_weight:g} x latency / {self.latency_ref or 1.0:.3g} s "
                "(joint accuracy and latency)"
            )
        if self.kind == "latency_cap":
            return f"best accuracy with mean latency <= {self.latency_cap:g} s"
        return f"best accuracy with cost <= ${self.cost_cap:g} per item"


def _check_combination(
    kind: ObjectiveKind, latency_weight: float | None, latency_cap: float | None, cost_cap: float | None
) -> None:
    """Options the objective would silently ignore are user errors: a search that ranks by something other than
    what was asked for wastes its whole budget before anyone notices (`--latency-weight` with the accuracy
    objective used to run an accuracy search). Messages name the CLI options, `build`'s only caller's words."""
    if latency_cap is not None and cost_cap is not None:
        raise SearchError("give --latency-cap or --cost-cap, not both: a search ranks graphs under one cap")
    cap = "--latency-cap" if latency_cap is not None else "--cost-cap" if cost_cap is not None else None
    if kind == "joint" and cap is not None:
        raise SearchError(
            f"{cap} does not combine with --objective joint: drop --objective joint (best accuracy under the cap) "
            f"or drop {cap} (accuracy traded against latency)"
        )
    if latency_weight is not None and kind != "joint":
        raise SearchError("--latency-weight applies only to --objective joint (accuracy - w * latency / ref)")
    if (kind == "latency_cap" and cost_cap is not None) or (kind == "cost_cap" and latency_cap is not None):
        raise SearchError(f"the {kind} objective does not take {cap}")
