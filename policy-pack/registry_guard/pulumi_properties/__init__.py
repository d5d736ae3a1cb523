"""Pulumi resource properties (engine wire names) to the catalogue's normalized model."""
