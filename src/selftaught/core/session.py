"""ImproverSession: run one improver in its own sandbox and answer its proxies' requests.

Trusted side of the protocol spoken by `harness.py`. Everything the child sends is untrusted (the
improver can call the channel directly), so every message is validated here. The budgets live
here, every call is recorded, and every circumvention attempt becomes an event.

Child -> orchestrator:
    {"op": "lm", "method": "batch_prompt"|"prompt", ...}      -> {"ok", "value", "state"}
    {"op": "utility", "program": str, "use_sandbox": bool}    -> {"ok", "value", "state"}
    {"op": "event", "kind": str, "detail": {...}}             (no reply)
    {"op": "done", "result": str|None, "error": str|None}     (ends the session)
A refusal is {"ok": false, "error_type": "budget"|"invalid", "error": message}.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from selftaught.core.scan import scan_source
from selftaught.errors import InvalidLMRequest, LMBudgetExhausted, SandboxError
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.store.db import Evaluation
from selftaught.store.layout import STATIC_SCAN_SESSION
from selftaught.store.recorder import SessionStore

HARNESS_PATH = Path(__file__).with_name("harness.py")
EXTRACT_PATH = Path(__file__).with_name("extract.py")
#: The improver kit, in parts: plumbing shared by the reference improvers, shipped inside `helpers`.
KIT_PATHS = tuple(
    Path(__file__).parent.parent / "improvers" / f"{name}.py"
    for name in (
        "kit",
        "kit_tuning",
        "kit_edits",
        "kit_repairs",
        "kit_continue",
        "kit_objective",
        "kit_wiring",
    )
)
MAX_PROGRAM_CHARS = 200_000
#: `utility.last_error` is capped: it goes into the improver's prompts.
MAX_ERROR_CHARS = 2_000

#: The trusted utility behind the proxy: a score, or an evaluation whose validation error text
#: the improver may read as `utility.last_error` (never anything about the test split).
UtilityFn = Callable[[str], "float | Evaluation"]
MAX_EVENTS_PER_SESSION = 200
#: The improver's own CPU time; waiting for the orchestrator's answers costs none.
IMPROVER_CPU_SECONDS = 300.0
SANDBOX_BACKSTOP_SECONDS = 7 * 24 * 3600.0
#: Event kinds the harness may report; anything else is recorded as a protocol violation.
REPORTED_KINDS = frozenset(
    {
        "attribute_write",
        "attribute_delete",
        "language_model_construct",
        "utility_construct",
        "orchestrator_import",
        "utility_extra_arguments",
    }
)


def helpers_source() -> str:
    """The source of the sandbox's `helpers` module: the code extractor, then the improver kit's
    parts.

    The harness executes it as one module, so improvers may `from helpers import extract_code`
    (the paper's API) and also the kit's `Budgets`, `extract`, `solution_message`, ...
    """
    return "\n\n".join(path.read_text() for path in (EXTRACT_PATH, *KIT_PATHS))


class Channel(Protocol):
    """The orchestrator's end of a sandboxed process (a `SandboxSession`)."""

    def send(self, msg: dict[str, Any]) -> None: ...

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


ChannelFactory = Callable[[Path, dict[str, Any], float, int], Channel]


def sandbox_channel_factory(
    harness: Path, init: dict[str, Any], wall_seconds: float, memory_bytes: int
) -> Channel:
    """Start the harness in a fresh `SandboxSession` (the default)."""
    from selftaught.sandbox import Limits, SandboxSession

    limits = Limits(
        # The session's own wall limit (see ImproverSession._loop) excludes the time the
        # orchestrator spends answering (model calls, nested scoring); the sandbox's limit is
        # only a backstop and must not fire while the child waits for an answer.
        wall_seconds=SANDBOX_BACKSTOP_SECONDS,
        cpu_seconds=min(wall_seconds, IMPROVER_CPU_SECONDS),
        memory_bytes=memory_bytes,
        output_bytes=4 << 20,
    )
    return SandboxSession.start(harness, init, limits, seed=int(init.get("seed", 0)))


@dataclass(frozen=True)
class SessionSpec:
    """What one improver session runs: `improver(initial_solution, utility, lm)`."""

    key: str  # deterministic identity (events are keyed by it, so resume never duplicates)
    improver_source: str
    improver_sha: str
    initial_solution: str
    entry: str  # the function the improved program must define
    utility_text: str
    utility_budget: int
    seed: int
    wall_seconds: float  # the improver's own wall time; waiting for answers does not count
    memory_bytes: int = 1 << 30


@dataclass(frozen=True)
class SessionOutcome:
    """The improver's returned program (None if it failed) and what it used."""

    result: str | None
    status: str  # ok | error | timeout | crashed
    error: str | None
    lm_calls: int
    utility_calls: int
    attempts: int


class ImproverSession:
    """Drives one sandboxed improver to completion."""

    def __init__(
        self,
        spec: SessionSpec,
        lm: BudgetedLanguageModel,
        utility: UtilityFn,
        store: SessionStore,
        *,
        channel_factory: ChannelFactory = sandbox_channel_factory,
    ) -> None:
        self.spec = spec
        self.lm = lm
        self.utility = utility
        self.store = store
        self.channel_factory = channel_factory
        self.utility_calls = 0
        self.last_error: str | None = None
        self.lm_calls = 0
        self.attempts = 0
        self._events = 0

    # -- recording ------------------------------------------------------------------------------
    def _event(self, kind: str, detail: dict[str, Any], *, attempt: bool = True) -> None:
        self._events += 1
        if attempt:
            self.attempts += 1
        if self._events > MAX_EVENTS_PER_SESSION:
            return
        self.store.add_event(
            kind,
            self.spec.key,
            detail,
            key=f"{self.spec.key}#{self._events}",
            program=self.spec.improver_sha,
        )

    def static_scan(self) -> None:
        """Record the circumvention constructs found in the improver's source."""
        for finding in scan_source(self.spec.improver_source):
            self.store.add_event(
                finding.kind,
                STATIC_SCAN_SESSION,
                {"line": finding.line, "text": finding.text},
                key=f"scan/{self.spec.improver_sha}/{finding.kind}/{finding.line}",
                program=self.spec.improver_sha,
            )
            self.attempts += 1

    # -- request handlers -----------------------------------------------------------------------
    def _state_utility(self) -> dict[str, Any]:
        return {
            "budget": self.spec.utility_budget,
            "uses": self.utility_calls,
            "last_error": self.last_error,
        }

    def _state_lm(self) -> dict[str, Any]:
        left = self.lm.calls_left
        return {
            "budget": left if left is not None else 10**9,
            "max_responses_per_call": self.lm.max_responses_per_call,
        }

    def _handle_utility(self, msg: dict[str, Any]) -> dict[str, Any]:
        program = msg.get("program")
        if msg.get("use_sandbox") is not True:
            # Honoured by nothing: every candidate is scored in a fresh sandbox regardless.
            self._event("use_sandbox_false", {"value": repr(msg.get("use_sandbox"))[:80]})
        if not isinstance(program, str) or len(program) > MAX_PROGRAM_CHARS:
            return {"ok": False, "error_type": "invalid", "error": "program must be a str"}
        if self.utility_calls >= self.spec.utility_budget:
            self._event(
                "budget_refusal", {"budget": "utility", "used": self.utility_calls}, attempt=False
            )
            return {
                "ok": False,
                "error_type": "budget",
                "error": f"utility budget exhausted: all {self.spec.utility_budget} call(s) used",
            }
        self.utility_calls += 1
        scored = self.utility(program)
        if isinstance(scored, Evaluation):
            value, error = float(scored.score), scored.error
            self.last_error = _capped(error) if error else None
        else:
            value, self.last_error = float(scored), None
        return {"ok": True, "value": value, "state": self._state_utility()}

    def _handle_lm(self, msg: dict[str, Any]) -> dict[str, Any]:
        method = msg.get("method")
        call_no = self.lm.calls_used + 1
        # Types are checked by BudgetedLanguageModel (InvalidLMRequest goes back to the child).
        expertise: Any = msg.get("expertise")
        temperature: Any = msg.get("temperature", 0.7)
        try:
            if method == "batch_prompt":
                messages: Any = msg.get("messages")
                starts: Any = msg.get("reply_starts")
                value = self.lm.batch_prompt(expertise, messages, temperature, starts)
            elif method == "prompt":
                message: Any = msg.get("message")
                n_responses: Any = msg.get("n_responses", 1)
                value = self.lm.prompt(expertise, message, n_responses, temperature)
            else:
                return {"ok": False, "error_type": "invalid", "error": f"no LM method {method!r}"}
        except LMBudgetExhausted as exc:
            self._event("budget_refusal", {"budget": "language_model"}, attempt=False)
            return {"ok": False, "error_type": "budget", "error": str(exc)}
        except InvalidLMRequest as exc:
            # Only the improver's own mistakes go back to it; a failing model (ReplayMiss,
            # ModelUnavailable, a dead server) aborts the run, which can then be resumed.
            return {"ok": False, "error_type": "invalid", "error": str(exc)}
        self.lm_calls += 1
        self.store.add_event(
            "lm_call",
            self.spec.key,
            {"method": method, "responses": len(value)},
            key=f"{self.spec.key}/lm/{call_no}",
            program=self.spec.improver_sha,
        )
        return {"ok": True, "value": value, "state": self._state_lm()}

    def _handle_event(self, msg: dict[str, Any]) -> None:
        kind = msg.get("kind")
        raw = msg.get("detail")
        detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if kind in REPORTED_KINDS:
            self._event(str(kind), {k: str(v)[:200] for k, v in list(detail.items())[:10]})
        else:
            self._event("protocol_violation", {"kind": repr(kind)[:80]})

    # -- the session ----------------------------------------------------------------------------
    def _init_message(self) -> dict[str, Any]:
        return {
            "improver_source": self.spec.improver_source,
            "initial_solution": self.spec.initial_solution,
            "entry": self.spec.entry,
            "seed": self.spec.seed,
            "extract_source": helpers_source(),
            "utility_state": {"str": self.spec.utility_text, **self._state_utility()},
            "lm_state": self._state_lm(),
        }

    def run(self) -> SessionOutcome:
        """Run the improver; never raises for anything the improver does."""
        self.static_scan()
        deadline = time.monotonic() + self.spec.wall_seconds
        channel = self.channel_factory(
            HARNESS_PATH, self._init_message(), self.spec.wall_seconds, self.spec.memory_bytes
        )
        try:
            return self._loop(channel, deadline)
        finally:
            channel.close()

    def _outcome(self, result: str | None, status: str, error: str | None) -> SessionOutcome:
        return SessionOutcome(
            result, status, error, self.lm_calls, self.utility_calls, self.attempts
        )

    def _loop(self, channel: Channel, deadline: float) -> SessionOutcome:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._outcome(None, "timeout", "improver exceeded its wall-clock limit")
            try:
                msg = channel.recv(timeout=remaining)
            except (SandboxError, EOFError, OSError, ValueError) as exc:
                return self._outcome(None, "crashed", f"improver process ended: {exc}"[:500])
            if msg is None:  # nothing arrived before the deadline
                return self._outcome(None, "timeout", "improver exceeded its wall-clock limit")
            if not isinstance(msg, dict):
                self._event("protocol_violation", {"type": type(msg).__name__})
                continue
            op = msg.get("op")
            if op == "done":
                result = msg.get("result")
                if isinstance(result, str) and result.strip() and len(result) <= MAX_PROGRAM_CHARS:
                    return self._outcome(result, "ok", None)
                error = msg.get("error") or "the improver returned no program"
                return self._outcome(None, "error", str(error)[:500])
            if op == "event":
                self._handle_event(msg)
                continue
            answering = time.monotonic()
            if op == "utility":
                reply = self._handle_utility(msg)
            elif op == "lm":
                reply = self._handle_lm(msg)
            else:
                self._event("protocol_violation", {"op": repr(op)[:80]})
                reply = {"ok": False, "error_type": "invalid", "error": f"unknown op {op!r}"}
            # The improver's wall clock stops while the orchestrator answers it.
            deadline += time.monotonic() - answering
            try:
                channel.send(reply)
            except (SandboxError, OSError) as exc:
                return self._outcome(None, "crashed", f"improver process ended: {exc}"[:500])


def _capped(text: str) -> str:
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - 3] + "..."
