"""The ground floor: building blocks any feature package may use; imports nothing of tutela."""
