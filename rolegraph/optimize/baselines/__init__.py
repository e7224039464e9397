"""Baseline optimizers with Agent-REINFORCE's interface and evaluation accounting."""
