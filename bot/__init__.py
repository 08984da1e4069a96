"""Top layer: the command line and the scheduler; the one place that wires the other packages."""
