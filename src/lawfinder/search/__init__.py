"""The search: islands of programs evolving under selection, and its driver."""
