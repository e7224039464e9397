"""Long variants of the reliability suite (tests/reliability): injected faults through bigger searches,
many kill-and-resume points, and 1,000 concurrent item evaluations. Each module runs with
`python -m benchmarks.reliability.NAME`, prints a table and writes JSON to benchmarks/reliability/results/.
The figures are quoted in docs/reliability.md.
"""
