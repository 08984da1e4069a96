"""On-demand benchmarks: `python -m bench [intake|latency|workbook|digest|scaleout|all]` (see docs/performance.md)."""
