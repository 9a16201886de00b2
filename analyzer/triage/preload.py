"""Imported by the triage fork server before its workers fork: the analysis ready in every worker."""

from analyzer.triage.runner import preload

preload()
