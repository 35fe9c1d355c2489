def algorithm():
    """Seed solution: 26 equal circles on a 6 x 5 grid (the last row holds only 2)."""
    columns, rows = 6, 5
    r = 1 / (2 * columns)  # the grid's columns are the tighter direction
    circles = []
    for k in range(26):
        row, col = divmod(k, columns)
        x = (2 * col + 1) * r
        y = (2 * row + 1) / (2 * rows)
        circles.append([x, y, r])
    return circles
