# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Mutate the input objects in place (they must be copies) and return them."""


def attack(matrix):
    matrix[0][0] = 999
    matrix.append(["injected"])
    return matrix
