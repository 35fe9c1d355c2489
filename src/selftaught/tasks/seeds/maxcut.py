def algorithm(adjacency_matrix):
    """Seed solution: greedy. Place nodes one by one on the side that cuts more placed edges."""
    n = len(adjacency_matrix)
    labels = [-1] * n
    for node in range(n):
        row = adjacency_matrix[node]
        to_side = [0, 0]  # weight from this node to already placed nodes on side 0 / side 1
        for other in range(node):
            to_side[labels[other]] += row[other]
        # Joining side 0 cuts the edges to side 1, and vice versa.
        labels[node] = 0 if to_side[1] >= to_side[0] else 1
    return labels
