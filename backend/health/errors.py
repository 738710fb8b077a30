from backend.core.errors import ProblemError


class DependencyUnavailable(ProblemError):
    status = 503
    error_code = "DEPENDENCY_UNAVAILABLE"
    title = "A dependency is unavailable"
    default_detail = "The API cannot reach a dependency it needs; see checks."
