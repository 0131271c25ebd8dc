"""What runs: layers, the trace format, synthetic traces, benchmark networks and topologies."""
