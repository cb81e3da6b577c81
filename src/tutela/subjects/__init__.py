"""Data-subject rights: finding a person across tables, access reports, erasure, batches."""
