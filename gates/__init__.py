"""Built-in gates, one module per gate type. Loaded by path, never imported by the engine."""
