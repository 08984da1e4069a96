"""Pure functions about time and compliance: periods, deadlines, unit status, scores. No I/O."""
