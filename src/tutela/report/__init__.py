"""Renderers: JSON, Markdown and self-contained HTML for reports and certificates."""
