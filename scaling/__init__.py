"""scaling: power-law fits, exponent uncertainty and data-scaling predictions (numpy/scipy only)."""
