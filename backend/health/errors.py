from backend.core.errors import ProblemError


class DependencyUnavailable(ProblemError):
    status = 503
    error_code = "DEPENDENCY_UNAVAILABLE"
    title = "A dependency is unavailable"
    default_detail = "The API cannot reach a dependency it needs; see checks."


class MigrationsPending(ProblemError):
    status = 503
    error_code = "MIGRATIONS_PENDING"
    title = "Migrations pending"
    default_detail = "The database has documents of an older shape: run `tasklane migrate up`."
