"""The benchmark databases: dropped and created empty, or as a copy of another; only those named companyos_bench*."""
import psycopg


def _server_and_name(url):
    """Connection settings for the server's `postgres` database, and the benchmark database's name."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    if not name.startswith("companyos_bench"):
        raise SystemExit(f"--database-url: refusing to drop '{name}'; the benchmark database's name starts with companyos_bench.")
    return {**info, "dbname": "postgres"}, name


def recreate_database(url, *, template=None):
    """Drop and create the benchmark database named by `url`, empty or as a copy of the database `template`."""
    server_info, name = _server_and_name(url)
    with psycopg.connect(**server_info, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def drop_database(url):
    server_info, name = _server_and_name(url)
    with psycopg.connect(**server_info, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

