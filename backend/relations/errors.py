from backend.core.http.errors import ProblemError


class RelationNotFound(ProblemError):
    status = 404
    error_code = "RELATION_NOT_FOUND"
    title = "Relation not found"
    default_detail = "No relation with this id links this task to a task you can see."


class RelatedTaskNotFound(ProblemError):
    status = 404
    error_code = "RELATED_TASK_NOT_FOUND"
    title = "Related task not found"
    default_detail = (
        "The other task (`task_id`) does not exist, is deleted, or is in a project you cannot see."
    )


class SelfRelation(ProblemError):
    status = 422
    error_code = "SELF_RELATION"
    title = "A task cannot relate to itself"
    default_detail = "`task_id` must name another task."
    members = ("field_errors",)


class RelationExists(ProblemError):
    status = 409
    error_code = "RELATION_EXISTS"
    title = "Relation exists"
    default_detail = "These two tasks already have a relation of this type (in one direction or the other)."


class RelationCycle(ProblemError):
    status = 409
    error_code = "RELATION_CYCLE"
    title = "Blocks cycle"
    default_detail = (
        "The other task already blocks this one, directly or through other tasks: this relation "
        "would make a cycle of `blocks`."
    )


class BlocksChainTooLong(ProblemError):
    status = 409
    error_code = "BLOCKS_CHAIN_TOO_LONG"
    title = "Blocks chain too long to check"
    default_detail = (
        "The tasks this relation would block reach further than the server checks for cycles; "
        "remove some `blocks` relations of that chain first."
    )
