"""What a mapped layer costs: analytic and event timing, action counts, energy."""
