"""Loading the knowledge base from YAML, and searching it."""
