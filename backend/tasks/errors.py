from backend.core.http.errors import ProblemError


class TaskNotFound(ProblemError):
    status = 404
    error_code = "TASK_NOT_FOUND"
    title = "Task not found"
    default_detail = "No task with this id or key exists in a project you can see."


class AssigneeNotMember(ProblemError):
    status = 422
    error_code = "ASSIGNEE_NOT_MEMBER"
    title = "Assignee is not a member"
    default_detail = "Every assignee must be a member of the project."
    members = ("field_errors",)


class InvalidParent(ProblemError):
    status = 422
    error_code = "INVALID_PARENT"
    title = "Invalid parent task"
    default_detail = "The parent must be a task of the same project, without cycles, at most 5 levels deep."
    members = ("field_errors",)


class TaskNumberTaken(ProblemError):
    status = 409
    error_code = "TASK_NUMBER_TAKEN"
    title = "Task number taken"
    default_detail = (
        "The number this task was given belongs to another task (the project's counter is behind its "
        "tasks, as after restoring an older backup); nothing was created for it: send it again."
    )
