"""Exercise content: the catalogue data file, its loader and validator, lookup and the routine planner."""
