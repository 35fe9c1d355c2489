"""Evolve: a program database with islands and a MAP-Elites grid (AlphaEvolve/FunSearch style).

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).

Every scored attempt goes into a database. Islands keep lines of descent apart and pass their
best program to the next island every few rounds (migration). A MAP-Elites grid over features
of each program (its size and its control flow) keeps the best program of every cell, so prompts
can show diverse "inspirations" next to the parent, the top programs and the last errors. Full
rewrites are the main path (small models rarely write valid SEARCH/REPLACE blocks); an edit
prompt is used sometimes, and a reply without applicable edits falls back to its code. Failing
candidates are sent back once with their error for repair, and a candidate calling a helper of the
utility it was shown gets that helper appended. When the LM budget is spent, the utility budget
left hill-climbs the best program's numeric constants (as in refine). The random choices come
from a fixed-seed generator, so given the same answers and scores the search repeats itself
exactly.
"""

import ast
import random

from helpers import (
    KEEP_INPUT,
    MAX_ROUNDS,
    Budgets,
    _parses,
    add_utility_helpers,
    apply_edits,
    extract,
    parse_edits,
    tune_constants,
    utility_copies,
)

SEED = 18
ISLANDS = 3
MIGRATE_EVERY = 3  # rounds between migrations along the ring of islands
EXPLOIT = 0.6  # chance that a parent is its island's best program (else one of its top few)
TOP_K = 4  # how many of an island's best programs may be drawn as parents
DIFF_RATE = 0.25  # share of prompts asking for SEARCH/REPLACE edits (after the first round)
EDIT_TRIALS = 3  # edit prompts tried before giving up on edits when no reply held any
INSPIRATIONS = 2  # other programs shown in a prompt (other cells and islands)
SHOWN_LINES = 40  # an inspiration is cut to this many lines: small models copy long context
ERRORS_SHOWN = 2
REPAIR_SHARE = 0.5  # at most this share of a round's prompts repairs failures
TEMPERATURES = (0.6, 0.8, 1.0)  # by island: cautious, middle and bold lines of descent
REPAIR_TEMPERATURE = 0.4
ROUNDS = MAX_ROUNDS * 25  # a guard for unlimited budgets: long runs are this improver's job
SIZE_BINS = (8, 16, 32, 64, 128)  # lines of code
FLOW_BINS = (1, 3, 6, 10)  # loops, branches and comprehensions
ZERO_SCORE = (
    "it scored 0.0: it probably raised an exception, ran out of time, or returned an answer "
    "of the wrong shape"
)
REWRITE = (
    "Write an improved version of the current solution. Take ideas from the other solutions "
    "if they help, and avoid the errors listed. State your idea in one sentence, then give "
    "one complete Python code block that defines the same function."
)
EDIT = """Improve the current solution by editing it. State your idea in one sentence, then give
one or more edits, each in exactly this form:
<<<<<<< SEARCH
lines copied exactly from the current solution
=======
the lines that replace them
>>>>>>> REPLACE
If you cannot, give one complete Python code block instead."""
REPAIR = "This solution fails: {error}.\nFind the cause and fix it; keep the idea if it is sound."


# -- features and the grid -------------------------------------------------------------------
def _bin(value, edges):
    return sum(1 for edge in edges if value >= edge)


def features(program):
    """(size bin, control-flow bin) of a program: where it sits in the MAP-Elites grid."""
    lines = [line for line in program.splitlines() if line.strip()]
    try:
        nodes = list(ast.walk(ast.parse(program)))
    except Exception:
        nodes = []
    kinds = (ast.For, ast.While, ast.If, ast.IfExp, ast.comprehension, ast.Try)
    flow = sum(1 for node in nodes if isinstance(node, kinds))
    return _bin(len(lines), SIZE_BINS), _bin(flow, FLOW_BINS)


class Database:
    """Every scored attempt, the islands' members and the MAP-Elites grid of elites.

    An entry is a dict: code, score, island, parent (an entry index or None), error, cell.
    """

    def __init__(self, islands=ISLANDS):
        self.entries = []
        self.islands = [[] for _ in range(max(1, islands))]
        self.grid = {}  # cell -> index of the best entry there
        self.errors = []  # the last error messages, newest last
        self.seen = {}  # stripped code -> its entry index

    def add(self, code, score, island, parent=None, error=None):
        """Store one attempt; valid ones join their island and compete for their grid cell."""
        if code.strip() in self.seen:  # an attempt seen before: nothing new to store
            return self.seen[code.strip()]
        index = len(self.entries)
        cell = features(code)
        entry = {"code": code, "score": score, "island": island, "parent": parent}
        entry.update(error=error, cell=cell)
        self.entries.append(entry)
        self.seen[code.strip()] = index
        if error:
            self.errors = (self.errors + [error])[-ERRORS_SHOWN:]
        if score is None or error:
            return index
        self.islands[island].append(index)
        held = self.grid.get(cell)
        if held is None or score > self.entries[held]["score"]:
            self.grid[cell] = index
        return index

    def ranked(self, indices):
        """Indices best first; ties go to the older entry (a stable, seed-free order)."""
        return sorted(indices, key=lambda i: (-self.entries[i]["score"], i))

    def best(self, island=None):
        pool = self.islands[island] if island is not None else self.valid()
        ranked = self.ranked(pool)
        return ranked[0] if ranked else None

    def valid(self):
        return [i for i, e in enumerate(self.entries) if e["score"] is not None and not e["error"]]

    def migrate(self):
        """Each island's best joins the next island along the ring (when not there already)."""
        bests = [self.best(i) for i in range(len(self.islands))]
        for i, best in enumerate(bests):
            target = self.islands[(i + 1) % len(self.islands)]
            if best is not None and best not in target:
                target.append(best)

    def parent(self, island, rng):
        """An island's best, or one of its top few; None when the island is empty."""
        ranked = self.ranked(self.islands[island])
        if not ranked:
            return None
        if rng.random() < EXPLOIT:
            return ranked[0]
        return rng.choice(ranked[:TOP_K])

    def inspirations(self, parent, island, rng, k=INSPIRATIONS):
        """Up to k programs unlike the parent: elites of other cells, bests of other islands."""
        others = [self.best(i) for i in range(len(self.islands)) if i != island]
        cells = [self.grid[cell] for cell in sorted(self.grid)]
        pool = []
        for index in others + cells:
            code = None if index is None else self.entries[index]["code"].strip()
            taken = [self.entries[j]["code"].strip() for j in pool + [parent]]
            if index is not None and code not in taken:
                pool.append(index)
        rng.shuffle(pool)
        return self.ranked(pool[:k])


def candidate(parent, response):
    """The program a reply describes: its edits applied to the parent, else the code it holds."""
    edits = parse_edits(response)
    if edits:
        edited, applied = apply_edits(parent, edits)
        if applied and edited != parent and _parses(edited):
            return edited
    code = extract(response)
    return "" if "<<<<<<<" in code else code


# -- diagnosis ---------------------------------------------------------------------------------
def entry_of(source):
    """(name, number of parameters) of the function a solution must define, or (None, None)."""
    try:
        body = ast.parse(source).body
    except Exception:
        return None, None
    functions = [n for n in body if isinstance(n, ast.FunctionDef)]
    named = [f for f in functions if f.name in ("algorithm", "improve_algorithm")] or functions
    if not named:
        return None, None
    return named[0].name, len(named[0].args.posonlyargs) + len(named[0].args.args)


def diagnose(program, name, arity):
    """A static error message for `program`; None when nothing is wrong without running it."""
    if not program.strip():
        return "the reply contained no code block"
    try:
        tree = ast.parse(program)
    except SyntaxError as exc:
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if name and not found:
        return f"it does not define the function `{name}`"
    if found and arity is not None and found[-1].args.vararg is None:
        given = len(found[-1].args.posonlyargs) + len(found[-1].args.args)
        if given != arity:
            return f"`{name}` takes {given} parameters but must take {arity}"
    return None


# -- prompts -----------------------------------------------------------------------------------
def _shown(code):
    lines = code.splitlines()
    cut = "\n# ... (cut)" if len(lines) > SHOWN_LINES else ""
    return "\n".join(lines[:SHOWN_LINES]) + cut


def _utility_text(utility):
    return getattr(utility, "str", "")


def _score(value):
    return "failed" if value is None else f"{value:.4f}"


def evolve_message(db, parent, others, utility, task):
    """The prompt: the other programs first, then the errors, the utility and the parent last
    (the nearest code is what a small model copies), then the task."""
    parts = []
    if others:
        parts.append("Other solutions, with their scores (for ideas):")
        for n, index in enumerate(others):
            entry = db.entries[index]
            parts.append(f"Solution {n + 1} (score {_score(entry['score'])}):")
            parts.append(f"```python\n{_shown(entry['code'])}\n```")
    if db.errors:
        parts.append("Recent attempts failed with these errors; avoid them:")
        parts.extend(f"- {error}" for error in db.errors)
    entry = db.entries[parent]
    parts.append(
        f"It is scored by this utility function:\n```python\n{_utility_text(utility)}\n```"
    )
    parts.append(f"Here is the current solution (score {_score(entry['score'])}):")
    parts.append(f"```python\n{entry['code']}\n```")
    parts.append(task)
    return "\n\n".join(parts)


def repair_message(code, error, utility):
    return (
        f"It is scored by this utility function:\n```python\n{_utility_text(utility)}\n```\n\n"
        f"Here is a solution:\n```python\n{code}\n```\n\n{REPAIR.format(error=error)}\n"
        "Reply with one complete Python code block that defines the same function."
    )


# -- the search --------------------------------------------------------------------------------
def plan_round(db, failures, n, island, edits_on, utility, rng):
    """n prompts for one island: repairs of recent failures first (up to a share), then children
    of one parent, with the same inspirations. Identical prompts are sampled together and share
    their prompt's processing, which dominates the cost of a small model on a CPU.

    Returns (messages, origins); an origin is (parent index, repairing, asked for edits).
    """
    repairs = failures[: max(1, int(n * REPAIR_SHARE))] if failures else []
    del failures[: len(repairs)]
    messages = [repair_message(code, error, utility) for code, error, _ in repairs]
    origins = [(index, True, False) for _, _, index in repairs]
    parent = db.parent(island, rng)
    parent = 0 if parent is None else parent
    others = db.inspirations(parent, island, rng)
    for _ in range(n - len(repairs)):
        edit = edits_on and rng.random() < DIFF_RATE
        messages.append(evolve_message(db, parent, others, utility, EDIT if edit else REWRITE))
        origins.append((parent, False, edit))
    return messages, origins


def judge(budgets, utility, code, name, arity, parent_score):
    """(score or None, error or None) of one candidate; static failures cost no utility call."""
    error = diagnose(code, name, arity)
    if error is not None:
        return None, error
    known = code.strip() in budgets.scores
    score = budgets.score(code)
    if score is None or known:
        return score, None
    error = getattr(utility, "last_error", None)
    if not error and score <= 0.0 and (parent_score or 0.0) > 0.0:
        error = ZERO_SCORE
    return score, (str(error)[:600] if error else None)


def improve_algorithm(initial_solution, utility, language_model):
    """Evolve the solution with islands, a MAP-Elites grid, rich prompts and repairs.

    Round r belongs to island r mod ISLANDS (its own sampling temperature); every MIGRATE_EVERY
    rounds each island's best joins the next island.
    """
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    rng = random.Random(SEED)
    name, arity = entry_of(initial_solution)
    db = Database(ISLANDS)
    db.add(initial_solution, start or 0.0, 0)
    for island in range(1, len(db.islands)):  # every island starts from the input
        db.islands[island].append(0)
    failures = []  # (code, error, entry index): each failure is sent back once for repair
    edit_asks = edit_hits = 0  # a reply forced to start as code never holds edits: stop asking
    for round_index in range(ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        if round_index and round_index % MIGRATE_EVERY == 0:
            db.migrate()
        island = round_index % len(db.islands)
        # edits only once every island has a child, and while replies can hold them at all
        edits_on = round_index >= len(db.islands) and (edit_hits or edit_asks < EDIT_TRIALS)
        messages, origins = plan_round(db, failures, n, island, edits_on, utility, rng)
        repairs_only = all(repairing for _, repairing, _ in origins)
        temperature = (
            REPAIR_TEMPERATURE if repairs_only else TEMPERATURES[island % len(TEMPERATURES)]
        )
        responses = budgets.ask(messages, temperature)
        if not responses:
            break
        for response, (parent, repairing, edit) in zip(responses, origins):
            edit_asks += edit
            edit_hits += edit and bool(parse_edits(response))
            code = add_utility_helpers(candidate(db.entries[parent]["code"], response), utility)
            parent_score = db.entries[parent]["score"]
            score, error = judge(budgets, utility, code, name, arity, parent_score)
            index = db.add(code, score, island, parent, error)
            if error and code.strip() and not repairing:
                failures.append((code, error, index))
    if budgets.best is not None:  # the utility budget left tunes the best program's constants
        tune_constants(budgets, budgets.best, utility_copies(budgets.best, utility))
    return budgets.result(initial_solution)
