"""Design-space exploration: sweeps and plots."""
