"""Liveness and readiness probes for load balancers and orchestrators.

Both answer JSON without a login, touch no session and set no cookie:
- `/healthz`: the process is alive and serving requests (no database access);
- `/readyz`: the database answers and every migration is applied, so this process may
  take traffic; 503 with the reason otherwise.
"""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _unapplied_migrations(alias: str) -> list[str]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        pending = _unapplied_migrations("default")
        checks["migrations"] = "ok" if not pending else f"{len(pending)} unapplied"
    except DatabaseError as error:
        checks["database"] = f"unreachable: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )
