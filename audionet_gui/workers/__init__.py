"""Thin Qt adapters that run core jobs in QThreads and turn progress, results and errors into signals."""
