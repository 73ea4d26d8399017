"""Simulated parties around the broker for the demo and the tests (ARCHITECTURE.md).
The broker never imports this package."""
