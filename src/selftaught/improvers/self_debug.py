"""Self-debug: feed each failing candidate's error message back to the model for repair.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

import ast

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, extract, solution_message

TEMPERATURE = 0.7
REPAIR_TEMPERATURE = 0.4
MAX_REPAIRS = 3  # repair attempts along one line of descent
TASK = (
    "Write an improved version of the solution. The main improvement must be novel and "
    "non-trivial. First state your idea in one sentence, then implement it."
)
ZERO_SCORE = (
    "it scored 0.0 on the utility: it probably raised an exception, ran out of time, or "
    "returned an answer of the wrong shape"
)


def _functions(source):
    try:
        tree = ast.parse(source)
    except Exception:
        return []
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _arity(node):
    return len(node.args.posonlyargs) + len(node.args.args)


def entry_of(source):
    """(name, number of parameters) of the function a solution must define, or (None, None)."""
    functions = _functions(source)
    preferred = [f for f in functions if f.name in ("algorithm", "improve_algorithm")]
    if preferred:
        return preferred[0].name, _arity(preferred[0])
    if functions:
        return functions[-1].name, _arity(functions[-1])
    return None, None


def diagnose(program, name, arity):
    """A static error message for `program`; None when nothing is wrong without running it."""
    if not program.strip():
        return "the reply contained no code block"
    try:
        compile(program, "solution.py", "exec")
    except SyntaxError as exc:
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    if not name:
        return None
    found = [f for f in _functions(program) if f.name == name]
    if not found:
        return f"it does not define the function `{name}`"
    node = found[-1]
    if arity is not None and _arity(node) != arity and node.args.vararg is None:
        return f"`{name}` takes {_arity(node)} parameters but must take {arity}"
    return None


def utility_error(utility):
    """The utility's error text for its last call, when it exposes one (`last_error`)."""
    error = getattr(utility, "last_error", None)
    return str(error)[:1500] if error else None


def repair_message(program, error, utility):
    return solution_message(
        program,
        utility,
        f"This solution fails: {error}.\nFind the cause and fix it; keep the idea if it is sound.",
    )


def improve_algorithm(initial_solution, utility, language_model):
    """Generate candidates, then feed each failure's error message back to the LM to repair it.

    Failures found statically (no code, syntax errors, a missing or mis-shaped function) cost no
    utility call. Runtime errors come from the utility's `last_error` when it exposes one;
    otherwise a zero score is reported as a likely crash.
    """
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    name, arity = entry_of(initial_solution)
    failures = []  # (program, error message, repairs so far)
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        if failures:
            batch, failures = failures[:n], failures[n:]
            messages = [repair_message(p, e, utility) for p, e, _ in batch]
            tries = [t + 1 for _, _, t in batch]
            temperature = REPAIR_TEMPERATURE
        else:
            parent = budgets.best if budgets.best is not None else initial_solution
            messages = [solution_message(parent, utility, TASK)] * n
            tries = [0] * n
            temperature = TEMPERATURE
        responses = budgets.ask(messages, temperature)
        if not responses:
            break
        for response, tried in zip(responses, tries):
            code = extract(response)
            error = diagnose(code, name, arity)
            if error is None:
                score = budgets.score(code)
                if score is None:
                    continue
                error = utility_error(utility)
                if error is None and score <= 0.0 and (start or 0.0) > 0.0:
                    error = ZERO_SCORE
            if error is not None and code.strip() and tried < MAX_REPAIRS:
                failures.append((code, error, tried))
    return budgets.result(initial_solution)
