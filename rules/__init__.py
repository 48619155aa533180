"""Built-in rules, one libcst visitor module per rule type. Loaded by path, never imported by the engine."""
