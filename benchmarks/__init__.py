"""Speed benchmarks: `make bench` (python -m benchmarks) runs every benchmarks/*.py with a run().

Scale with BENCH_CUSTOMERS (default 1,000,000); BENCH_ONLY=name,name runs a subset; BENCH_DB=path
reuses an existing demo database instead of building one (its build row is then skipped).
"""
