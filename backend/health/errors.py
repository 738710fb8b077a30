from backend.auth.errors import Unauthorized
from backend.core.http.errors import ProblemError


class DependencyUnavailable(ProblemError):
    status = 503
    error_code = "DEPENDENCY_UNAVAILABLE"
    title = "A dependency is unavailable"
    default_headers = {"Retry-After": "5"}
    extra_members = {
        "checks": {
            "type": "object",
            "description": "One entry per dependency: `mongodb`, `redis`.",
            "additionalProperties": {"$ref": "#/components/schemas/DependencyCheck"},
        }
    }
    default_detail = "The API cannot reach a dependency it needs; see checks."


class MigrationsPending(ProblemError):
    status = 503
    error_code = "MIGRATIONS_PENDING"
    title = "Migrations pending"
    default_headers = {"Retry-After": "30"}
    extra_members = {
        "pending": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The migrations to run, as `NNNN_name`.",
        }
    }
    default_detail = "The database has documents of an older shape: run `tasklane migrate up`."


class MetricsTokenRequired(Unauthorized):
    error_code = "METRICS_TOKEN_REQUIRED"
    title = "Metrics token required"
    default_detail = "This server's metrics need its METRICS_TOKEN as a bearer token."
    challenge = 'Bearer realm="tasklane-metrics"'
