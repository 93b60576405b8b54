"""Reporters: present one run's findings and verdict (console, JSON, HTML)."""

from acore_doctor.report.model import build_report

__all__ = ["build_report"]
