"""Physics priors: simple constants, units, symmetries and the like."""
