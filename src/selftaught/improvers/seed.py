from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    """Improves a solution according to a utility function."""
    expertise = (
        "You are an expert computer science researcher and programmer, "
        "with a particular talent for optimizing algorithms."
    )
    message = f"""Here is the current solution:
```python
{initial_solution}
```

It will be scored by this utility function:
```python
{utility.str}
```

Write an improved version of the solution. Be as creative as you can within the constraints:
the main improvement must be novel and non-trivial. First state your idea, then implement it
as one complete Python code block that defines the same function."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)
    return best_solution
