"""
Subcommands of `manage.py kpi`. Each module here is one subcommand, named after the module with
underscores as hyphens (audit_export -> `kpi audit-export`). A module has a docstring (its help),
`add_arguments(parser)` and `handle(command, **options)`. An app above kpis adds its own in its
`management/kpi_subcommands` package (scoring: recording-rules).
"""
