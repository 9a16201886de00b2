"""Hooks into training frameworks that record what the analyzer and replay need while a run trains."""
