import numpy as np


def priority(item, bins):
    """Seed solution: first fit. Earlier bins get higher priority, so the item goes into the
    first bin (in bin order) that it fits in. `bins` holds the remaining capacities of those bins.
    """
    return -np.arange(len(bins), dtype=float)
