"""The long-running process: event loop, scheduler and its jobs, the trader lease, health, logging.

`loop.serve` is what `tracer-bullet serve` runs; `jobs` are the scheduler's work; `lease` keeps one
trader at a time; `health` is the quick check behind `tracer-bullet health`.
"""
