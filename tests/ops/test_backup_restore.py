"""The documented backup procedure (docs/operations.md) restores every row.

Runs the real tools against scratch databases on the PostgreSQL server the suite uses:
migrate and seed a database with `manage.py`, `pg_dump --format=custom` it, `pg_restore` it
into a fresh database, and compare every table's row count and content checksum.
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="backup and restore are PostgreSQL procedures (set DATABASE_URL to run this)",
    ),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]


def _server_url(database: str) -> str:
    params = settings.DATABASES["default"]
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{database}"


_FINGERPRINT_SQL = (
    "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) "
    'FROM "{table}" t'
)


def _table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table in the public schema."""
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        fingerprints = {}
        for table in tables:
            count, checksum = conn.execute(_FINGERPRINT_SQL.format(table=table)).fetchone()
            fingerprints[table] = (count, checksum)
    return fingerprints


@pytest.fixture
def scratch_databases():
    suffix = uuid.uuid4().hex[:8]
    names = [f"coop_backup_src_{suffix}", f"coop_backup_dst_{suffix}"]
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield [_server_url(name) for name in names]
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def test_a_dumped_seeded_database_restores_with_every_row(scratch_databases, tmp_path):
    source, target = scratch_databases
    _manage(source, "migrate", "--noinput")
    _manage(source, "seed_demo")
    dump = tmp_path / "coop.dump"
    subprocess.run(
        [shutil.which("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", source],
        check=True,
    )
    subprocess.run(
        [
            shutil.which("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={target}",
            str(dump),
        ],
        check=True,
    )
    before, after = _table_fingerprints(source), _table_fingerprints(target)
    assert before["users"][0] >= 5, "the seeded database has the demo people"
    assert sum(count for count, _ in before.values()) > 50
    assert after == before
