"""Templates written by `selftaught new-task` (read as text, never imported as tasks)."""
