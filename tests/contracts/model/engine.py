"""Random rule sequences, and a shrinker that reduces a failing one to a short readable program.

Why not hypothesis' RuleBasedStateMachine: the venv's hypothesis (6.27.3, pinned by brownie)
spends about 2.8 ms of its own per stateful step on this machine (measured with rules that do
nothing), more than a step's whole round trip to anvil; 25,000 steps would spend over a minute
in the generator alone. This engine draws a step in microseconds and keeps what the stateful
test needs from hypothesis:

- rules are methods declared with `@rule(weight, arg=generator, ...)`; `applies` limits a rule
  to some machines (e.g. the denylist rule to the denylisting token);
- each example runs a fixed number of steps from a fresh chain; every example enables a random
  subset of the rules ("swarm testing", as hypothesis' feature flags do), so that some runs
  never refund or dispute and get deep into others;
- argument generators favour their bounds and small values, where the edge cases are;
- on a failure it replays shorter and simpler variants (delta debugging over the steps, then
  each argument down to the lowest value that still fails, by bisection) while the same
  failure still happens, and reports the minimal program with the chain calls it made;
- a run is reproducible from its seed (MODEL_SEED).
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = str(Path(__file__).resolve().parent)


# ---------------------------------------------------------------- argument generators


@dataclass(frozen=True)
class Ints:
    """An integer in [lo, hi], with its bounds and small values drawn often (unless
    `uniform`: for picks, whose bits select things)."""

    lo: int
    hi: int
    uniform: bool = False

    def draw(self, rng: random.Random) -> int:
        if self.uniform:
            return rng.randint(self.lo, self.hi)
        roll = rng.random()
        if roll < 0.1:
            return self.lo
        if roll < 0.2:
            return self.hi
        if roll < 0.4:
            return rng.randint(self.lo, min(self.hi, self.lo + 200))
        return rng.randint(self.lo, self.hi)


def choice(n: int) -> Ints:
    """One of n options (0 is the simplest)."""
    return Ints(0, n - 1)


FLAG = choice(2)
PICK = Ints(
    0, 2**32 - 1, uniform=True
)  # selects a deal, milestone, key... (see base.ModelBase._target)


# ---------------------------------------------------------------- rules and steps


@dataclass(frozen=True)
class RuleSpec:
    name: str
    weight: int
    args: dict[str, Ints]
    applies: Callable[[object], bool] | None


def rule(weight: int = 1, applies: Callable[[object], bool] | None = None, **args: Ints):
    """Declare a machine method a rule, drawn `weight` times as often as a weight-1 rule, with
    arguments drawn from the given generators."""

    def mark(method):
        method.rule_spec = RuleSpec(method.__name__, weight, args, applies)
        return method

    return mark


@dataclass(frozen=True)
class Step:
    rule: str
    args: tuple[tuple[str, int], ...]

    def __str__(self) -> str:
        return f"{self.rule}({', '.join(f'{k}={v}' for k, v in self.args)})"


class Machine:
    """A state machine driven by the engine. Subclasses declare rules, `first_rule` (run as
    every example's first step, e.g. to create a deal) and `check()` (the invariants, run
    after every step). `trace()` returns what the example did, for a failure report."""

    first_rule: str = ""

    @classmethod
    def rule_specs(cls) -> dict[str, RuleSpec]:
        specs = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                spec = getattr(value, "rule_spec", None)
                if spec is not None:
                    specs[name] = spec
        return specs

    def execute(self, step: Step) -> None:
        getattr(self, step.rule)(**dict(step.args))

    def check(self) -> None:
        """Invariants after a step."""

    def trace(self) -> list[str]:
        return []


def draw_step(rng: random.Random, spec: RuleSpec) -> Step:
    return Step(spec.name, tuple((k, g.draw(rng)) for k, g in spec.args.items()))


# ---------------------------------------------------------------- running and shrinking


@dataclass
class Failure:
    """An exception at step `index`; `origin` (type, file and line in the model) is what a
    shrunk variant must reproduce to count as the same failure."""

    index: int
    exc: BaseException
    origin: tuple

    @classmethod
    def of(cls, index: int, exc: BaseException) -> Failure:
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if f.filename.startswith(PACKAGE)] or frames
        last = ours[-1] if ours else None
        where = (last.filename, last.lineno) if last else ("?", 0)
        return cls(index, exc, (type(exc).__name__, *where))


def replay(factory: Callable[[], Machine], steps: list[Step]) -> tuple[Failure | None, Machine]:
    """Run `steps` on a fresh machine, checking after each; the first failure, if any."""
    machine = factory()
    for index, step in enumerate(steps):
        try:
            machine.execute(step)
            machine.check()
        except Exception as exc:  # noqa: BLE001 - any exception is a finding
            return Failure.of(index, exc), machine
    return None, machine


@dataclass
class Shrunk:
    steps: list[Step]
    failure: Failure
    trace: list[str]  # what the minimal program did
    replays: int


def shrink(
    factory: Callable[[], Machine],
    steps: list[Step],
    failure: Failure,
    specs: dict[str, RuleSpec],
    budget_s: float = 120.0,
) -> Shrunk:
    """The shortest, simplest variant of `steps` that still fails with `failure`'s origin:
    cut after the failing step, drop chunks of steps (halving the chunk size down to one),
    then lower each argument, until nothing changes or the time budget is spent. The first
    step (the machine's first rule) stays, its arguments lowered too."""
    deadline = time.monotonic() + budget_s
    best = steps[: failure.index + 1]
    best_failure, best_trace = failure, None
    replays = 0

    def attempt(candidate: list[Step]) -> bool:
        nonlocal best, best_failure, best_trace, replays
        replays += 1
        got, machine = replay(factory, candidate)
        if got is None or got.origin != failure.origin:
            return False
        best, best_failure, best_trace = candidate[: got.index + 1], got, list(machine.trace())
        return True

    def lower(i: int, position: int) -> bool:
        """Bring argument `position` of step i down to its lowest value that still fails
        (its bound, else by bisection: the failure usually starts at a threshold)."""
        step = best[i]
        name, value = step.args[position]
        low = specs[step.rule].args[name].lo

        def at(v: int) -> list[Step]:
            args = list(step.args)
            args[position] = (name, v)
            return [*best[:i], Step(step.rule, tuple(args)), *best[i + 1 :]]

        if value == low or time.monotonic() > deadline:
            return False
        if attempt(at(low)):
            return True
        passes, fails = low, value
        while fails - passes > 1 and time.monotonic() < deadline:
            middle = (passes + fails) // 2
            if attempt(at(middle)):
                fails = middle
            else:
                passes = middle
            if i >= len(best) or best[i].rule != step.rule:
                break  # the failure moved earlier: this step is gone
        return fails < value

    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        size = max(1, len(best) // 2)
        while size >= 1 and time.monotonic() < deadline:
            i = len(best) - size
            while i >= 1 and time.monotonic() < deadline:  # step 0 (the first rule) stays
                if attempt(best[:i] + best[i + size :]):
                    changed = True
                i -= size
            size //= 2
        for i in range(len(best)):
            for position in range(len(best[i].args) if i < len(best) else 0):
                changed |= lower(i, position)
    if best_trace is None:  # nothing shorter failed: replay the cut program for its trace
        got, machine = replay(factory, best)
        best_failure, best_trace = got or failure, list(machine.trace())
    return Shrunk(best, best_failure, best_trace, replays)


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    rules: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


class ModelFailure(AssertionError):
    """The escrow and the model disagreed; the message is the shrunk program."""


def explore(
    factory: Callable[[], Machine],
    machine_class: type[Machine],
    examples: int,
    steps: int,
    seed: int,
    label: str = "",
    applies_to: object = None,
) -> Stats:
    """Run `examples` random programs of `steps` steps each; raise ModelFailure with a
    shrunk program at the first failure."""
    specs = machine_class.rule_specs()
    usable = [
        s
        for s in specs.values()
        if s.name != machine_class.first_rule and (s.applies is None or s.applies(applies_to))
    ]
    first = specs[machine_class.first_rule]
    stats = Stats()
    started = time.perf_counter()
    for example in range(examples):
        rng = random.Random(f"{seed}/{label}/{example}")
        enabled = [s for s in usable if rng.random() < 0.8] or usable
        population = [s for s in enabled for _ in range(s.weight)]
        history = [draw_step(rng, first)]
        history += [draw_step(rng, rng.choice(population)) for _ in range(steps - 1)]
        failure, machine = replay(factory, history)
        ran = failure.index + 1 if failure else len(history)
        stats.examples += 1
        stats.steps += ran
        for step in history[:ran]:
            stats.rules[step.rule] = stats.rules.get(step.rule, 0) + 1
        if failure is not None:
            stats.seconds = time.perf_counter() - started
            shrunk = shrink(factory, history, failure, specs)
            raise ModelFailure(report(shrunk, label, seed, example, ran)) from shrunk.failure.exc
    stats.seconds = time.perf_counter() - started
    return stats


def report(shrunk: Shrunk, label: str, seed: int, example: int, ran: int) -> str:
    exc = shrunk.failure.exc
    lines = [
        f"the escrow and its model disagree ({label}, MODEL_SEED={seed}, example {example}):",
        f"{type(exc).__name__}: {exc}",
        "",
        f"minimal program ({ran} steps shrunk to {len(shrunk.steps)} in {shrunk.replays} replays):",
        *(f"  {step}" for step in shrunk.steps),
        "",
        "what it did on chain:",
        *(f"  {line}" for line in shrunk.trace),
    ]
    return "\n".join(lines)
