"""The shell: wiring between providers, the pure core, the store and the trading module."""
