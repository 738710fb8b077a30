from backend.core.http.errors import ProblemError


class LabelNotFound(ProblemError):
    status = 404
    error_code = "LABEL_NOT_FOUND"
    title = "Label not found"
    default_detail = "No label with this id exists in this project."


class LabelExists(ProblemError):
    status = 409
    error_code = "LABEL_EXISTS"
    title = "Label exists"
    default_detail = "The project has a label of this name already (names are compared ignoring case)."
