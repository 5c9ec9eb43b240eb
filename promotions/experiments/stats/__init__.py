"""Pure experiment statistics and assignment: no Django, importable from a notebook."""
