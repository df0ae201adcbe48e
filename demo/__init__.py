"""
The demo and the benchmark: generators of a realistic, deterministic history (`seed_demo`, the data sources'
`seed_demo_sources`, both at once with `load_demo`) and `make bench` (`python -m demo.bench`).

The top layer: it writes through the same services and connectors real data goes through, and no other app
imports it.
"""
