"""Enforcement: retention, consent and role access applied to the workspace data, and
purpose- or role-bound exports."""
