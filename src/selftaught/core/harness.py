"""Improver harness: runs INSIDE the sandbox. Stdlib only; never imported by the orchestrator.

It receives one init message (the improver's source, the initial solution, the displayed budgets,
the utility text and the code-extraction helper's source), builds the two proxies the paper's API
promises, runs `improve_algorithm(initial_solution, utility, language_model)` and sends back the
result. Every proxy call is a JSON request answered by the trusted orchestrator, which holds the
real budgets, the language model and the scorer. The proxies' attributes are displayed copies:
writing them changes nothing outside this process, and each write is reported.
"""

import importlib.abc
import random
import sys
import traceback
import types

import sandbox_channel

_PRIVATE = object()  # marks construction by the harness itself
_MAX_TEXT = 200


class BudgetExhausted(Exception):
    """The orchestrator refused a call because a budget is spent."""


class RequestRefused(Exception):
    """The orchestrator refused a malformed request."""


def _short(value):
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return text[:_MAX_TEXT]


def _report(kind, **detail):
    sandbox_channel.send({"op": "event", "kind": kind, "detail": detail})


def _request(message):
    sandbox_channel.send(message)
    reply = sandbox_channel.recv()
    if not isinstance(reply, dict):
        raise RequestRefused("no reply from the orchestrator")
    if reply.get("ok"):
        return reply
    if reply.get("error_type") == "budget":
        raise BudgetExhausted(reply.get("error", "budget exhausted"))
    raise RequestRefused(reply.get("error", "request refused"))


class _Proxy:
    """Attribute writes from the improver are reported, then kept as a local copy only."""

    _target = "proxy"

    def __setattr__(self, name, value):
        _report("attribute_write", target=self._target, name=name, value=_short(value))
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        _report("attribute_delete", target=self._target, name=name)
        object.__delattr__(self, name)

    def _refresh(self, state):
        for name, value in (state or {}).items():
            object.__setattr__(self, name, value)


class Utility(_Proxy):
    """The utility u (or the meta-utility): `utility(program)` is scored by the orchestrator."""

    _target = "utility"

    def __init__(self, *args, **kwargs):
        token = kwargs.pop("_token", None)
        if token is not _PRIVATE:
            _report("utility_construct", args=_short(args), kwargs=_short(kwargs))
        state = kwargs.pop("_state", None) or dict(_INIT.get("utility_state", {}))
        self._refresh(state)

    def __call__(self, program, use_sandbox=True, **kwargs):
        if kwargs:
            _report("utility_extra_arguments", kwargs=_short(kwargs))
        if not isinstance(program, str):
            return 0.0
        reply = _request({"op": "utility", "program": program, "use_sandbox": use_sandbox is True})
        self._refresh(reply.get("state"))
        return float(reply.get("value", 0.0))


class LanguageModel(_Proxy):
    """The language model L: every call is answered (and budgeted) by the orchestrator."""

    _target = "language_model"

    def __init__(self, *args, **kwargs):
        token = kwargs.pop("_token", None)
        if token is not _PRIVATE:
            # The paper saw an improver build a new model with a bigger budget. This one is
            # bound to the same trusted budget as the original, so it gains nothing.
            _report("language_model_construct", args=_short(args), kwargs=_short(kwargs))
        state = kwargs.pop("_state", None) or dict(_INIT.get("lm_state", {}))
        self._refresh(state)

    def batch_prompt(self, expertise, messages, temperature=0.7, reply_starts=None):
        if isinstance(messages, str):
            messages = [messages]
        request = {
            "op": "lm",
            "method": "batch_prompt",
            "expertise": expertise,
            "messages": list(messages),
            "temperature": temperature,
        }
        if reply_starts is not None:  # the extension: replies that continue given text
            request["reply_starts"] = reply_starts
        reply = _request(request)
        self._refresh(reply.get("state"))
        return list(reply.get("value", []))

    def prompt(self, expertise, message, n_responses=1, temperature=0.7):
        reply = _request(
            {
                "op": "lm",
                "method": "prompt",
                "expertise": expertise,
                "message": message,
                "n_responses": n_responses,
                "temperature": temperature,
            }
        )
        self._refresh(reply.get("state"))
        return list(reply.get("value", []))


class _OrchestratorImportBlocker(importlib.abc.MetaPathFinder):
    """Reports and refuses imports of the orchestrator's own package."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "selftaught" or fullname.startswith("selftaught."):
            _report("orchestrator_import", module=fullname)
            raise ImportError(f"{fullname} is not available inside the sandbox")
        return None


def _install_modules(init):
    helpers = types.ModuleType("helpers")
    exec(compile(init["extract_source"], "helpers.py", "exec"), helpers.__dict__)
    entry = init.get("entry")
    extract = helpers.extract_code

    def extract_code(responses, entry=entry):
        return extract(responses, entry)

    helpers.extract_code = extract_code
    helpers.ENTRY = entry  # the function a program must define (the kit continues it)
    helpers.LanguageModel = LanguageModel
    helpers.Utility = Utility
    sys.modules["helpers"] = helpers
    lm_module = types.ModuleType("language_model")
    lm_module.LanguageModel = LanguageModel
    sys.modules["language_model"] = lm_module
    sys.meta_path.insert(0, _OrchestratorImportBlocker())


def _run(init):
    namespace = {"__name__": "improver", "__builtins__": __builtins__}
    exec(compile(init["improver_source"], "improver.py", "exec"), namespace)
    improve = namespace.get("improve_algorithm")
    if not callable(improve):
        raise RequestRefused("the improver defines no improve_algorithm function")
    utility = Utility(_token=_PRIVATE, _state=dict(init["utility_state"]))
    language_model = LanguageModel(_token=_PRIVATE, _state=dict(init["lm_state"]))
    return improve(init["initial_solution"], utility, language_model)


def _read_init():
    init = getattr(sandbox_channel, "init", None)
    if not isinstance(init, dict):
        init = sandbox_channel.recv()
    if not isinstance(init, dict) or "improver_source" not in init:
        raise SystemExit("harness: bad init message")
    return init


_INIT: dict = {}


def main():
    init = _read_init()
    _INIT.update(init)
    # Seeded so that a resumed run replays the same improver decisions.
    random.seed(init.get("seed", 0))
    _install_modules(init)
    try:
        result = _run(init)
    except BaseException as exc:  # the improver is untrusted: report whatever it raised
        detail = "".join(traceback.format_exception(exc))[-4000:]
        sandbox_channel.send({"op": "done", "result": None, "error": _short(exc), "trace": detail})
        return
    if not isinstance(result, str):
        sandbox_channel.send(
            {"op": "done", "result": None, "error": f"returned {type(result).__name__}, not str"}
        )
        return
    sandbox_channel.send({"op": "done", "result": result, "error": None})


if __name__ == "__main__":
    main()
