"""Budgets: periods, spend, Redis counters and their settlement (control defines the budgets)."""
