"""Shared-backbone multi-head ("hydra") models: one backbone pass, many versioned heads."""
