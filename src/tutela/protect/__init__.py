"""Protection: keys, keyed hashing and pseudonymization."""
