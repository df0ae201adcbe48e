"""
One module per data source, each generating that tool's demo history in its own format (webhook deliveries,
scanner reports, CSV exports, Prometheus responses) and feeding it through the tool's connector. Each
registers itself with demo.registry.demo_source; `seed_demo_sources` imports them all.
"""
