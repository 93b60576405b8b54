"""Probes gather facts about a deployment; they never judge and never write to it."""
