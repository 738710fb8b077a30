"""An example for every schema of the contract, so that docs and mock servers (Prism) show and answer
realistic bodies. One small world: Ada owns project WEB, Max is a member, task WEB-42 is in progress.

`build_openapi` attaches them by schema name, after FastAPI's encoding (which would drop the
nulls); tests/test_contract.py checks that every schema has one and that each is valid against its
schema, so an example cannot drift from its model.
"""

from typing import Any

ADA = "6b0201e8c0ffee0000000001"
MAX = "6b0201e8c0ffee0000000002"
OUTSIDER = "6b0201e8c0ffee0000000003"  # a user who is not a member of WEB
PROJECT = "6b0201e8c0ffee00000000a1"
TASK = "6b0201e8c0ffee00000000b2"
PARENT = "6b0201e8c0ffee00000000b1"
COMMENT = "6b0201e8c0ffee00000000c1"
ACTIVITY = "6b0201e8c0ffee00000000d1"
SESSION = "6b0201e8c0ffee00000000e1"
TOKEN = "6b0201e8c0ffee00000000f1"
RELATION = "6b0201e8c0ffee00000000a7"
BLOCKED = "6b0201e8c0ffee00000000b3"
LABEL = "6b0201e8c0ffee00000000f2"
ATTACHMENT = "6b0201e8c0ffee00000000f3"
CREATED = "2026-11-30T09:15:00Z"
UPDATED = "2026-12-01T14:02:11Z"
TICKET = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJzdHJlYW0ifQ.c2lnbmF0dXJl"
CURSOR = "q9Xh3kTz0bVbJ5eyJzIjoidGFza3MiLCJwIjp7fX0"

_ADA = {"id": ADA, "display_name": "Ada Lovelace", "handle": "ada"}
_MAX = {"id": MAX, "display_name": "Max Planck"}
_MAX_PERSON = {**_MAX, "handle": "max"}
_ADA_MENTION = {"user_id": ADA, "handle": "ada", "display_name": "Ada Lovelace"}
_TASK = {
    "id": TASK,
    "project_id": PROJECT,
    "number": 42,
    "key": "WEB-42",
    "title": "Fix the login redirect loop",
    "description": "After a password reset the login page redirects to itself. @ada knows the flow.",
    "status": "in_progress",
    "priority": 2,
    "labels": ["bug", "auth"],
    "assignees": [_MAX_PERSON],
    "mentions": [_ADA_MENTION],
    "due_at": "2026-12-10T17:00:00Z",
    "parent_id": PARENT,
    "position": 1024.0,
    "rank": "agV",
    "created_by": ADA,
    "created_at": CREATED,
    "updated_at": UPDATED,
    "completed_at": None,
    "deleted_at": None,
}
_PROJECT = {
    "id": PROJECT,
    "key": "WEB",
    "name": "Website",
    "description": "The public website and its sign-in.",
    "archived": False,
    "archived_at": None,
    "created_by": ADA,
    "created_at": CREATED,
    "updated_at": UPDATED,
    "member_count": 4,
    "my_role": "owner",
}
_MEMBER = {
    "user_id": MAX,
    "display_name": "Max Planck",
    "handle": "max",
    "role": "member",
    "added_at": CREATED,
}
_USER = {
    "id": ADA,
    "email": "ada@example.com",
    "display_name": "Ada Lovelace",
    "handle": "ada",
    "role": "user",
    "disabled": False,
    "created_at": CREATED,
}
_COMMENT = {
    "id": COMMENT,
    "task_id": TASK,
    "author": _MAX_PERSON,
    "body": "Reproduced on Firefox; the cookie is set for the wrong path. @ada, can you look?",
    "mentions": [_ADA_MENTION],
    "created_at": UPDATED,
    "edited_at": None,
}
_ATTACHMENT = {
    "id": ATTACHMENT,
    "project_id": PROJECT,
    "task_id": TASK,
    "filename": "redirect-loop.png",
    "content_type": "image/png",
    "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploader": _MAX_PERSON,
    "created_at": UPDATED,
}
_CHANGES = {"status": ["todo", "in_progress"], "assignee_ids": [[], [MAX]]}
_ACTIVITY = {
    "id": ACTIVITY,
    "project_id": PROJECT,
    "task_id": TASK,
    "actor": _ADA,
    "verb": "task.updated",
    "target": {"type": "task", "id": TASK, "key": "WEB-42"},
    "changes": _CHANGES,
    "created_at": UPDATED,
}
_RELATED_TASK = {
    "id": BLOCKED,
    "project_id": PROJECT,
    "key": "WEB-43",
    "title": "Ship the new sign-in page",
    "status": "todo",
}
_RELATION = {"id": RELATION, "type": "blocks", "task": _RELATED_TASK, "created_at": UPDATED}
_SESSION = {
    "id": SESSION,
    "created_at": CREATED,
    "last_used_at": UPDATED,
    "expires_at": "2026-12-14T09:15:00Z",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    "current": True,
}
_TOKEN = {
    "id": TOKEN,
    "name": "CI deploy bot",
    "token_prefix": "tlp_Xk3v",
    "created_at": CREATED,
    "expires_at": None,
}
_LABEL = {
    "id": LABEL,
    "project_id": PROJECT,
    "name": "Bug",
    "task_label": "bug",
    "color": "#e5484d",
    "description": "Something does not work as documented.",
    "created_at": CREATED,
    "updated_at": UPDATED,
}

_BATCH_CREATED = {"outcome": "created", "index": 0, "status": 201, "task": _TASK}
_BATCH_FAILED = {
    "outcome": "failed",
    "index": 1,
    "status": 422,
    "problem": {
        "type": "urn:tasklane:error:ASSIGNEE_NOT_MEMBER",
        "title": "Assignee is not a member",
        "status": 422,
        "detail": f"Not members of the project: {OUTSIDER}.",
        "instance": f"/api/v1/projects/{PROJECT}/tasks/batch",
        "error_code": "ASSIGNEE_NOT_MEMBER",
        "request_id": "6f1c2b0e9a7d4f55b3e1c0a9d8e7f6a5",
        "field_errors": {"assignee_ids": [f"Not members of the project: {OUTSIDER}."]},
    },
}


WEBHOOK = "6b0201e8c0ffee00000000f3"
DELIVERY = "6b0201e8c0ffee00000000f4"
_WEBHOOK = {
    "id": WEBHOOK,
    "project_id": PROJECT,
    "url": "https://hooks.example.com/tasklane",
    "events": ["task.created", "task.updated"],
    "active": True,
    "description": "Sync to the support desk",
    "consecutive_failures": 0,
    "disabled_reason": None,
    "created_at": CREATED,
    "updated_at": UPDATED,
}
_DELIVERY = {
    "id": DELIVERY,
    "webhook_id": WEBHOOK,
    "message_id": f"msg_{ACTIVITY}",
    "event_type": "task.updated",
    "status": "succeeded",
    "attempts": 2,
    "next_attempt_at": None,
    "response_status": 200,
    "response_body": "ok",
    "latency_ms": 87,
    "error": None,
    "redelivery_of": None,
    "created_at": UPDATED,
    "updated_at": UPDATED,
}


def _page(item: dict[str, Any]) -> dict[str, Any]:
    return {"items": [item], "next_cursor": CURSOR}


NOTIFICATION = "6b0201e8c0ffee00000000a9"
_NOTIFICATION = {
    "id": NOTIFICATION,
    "kind": "commented",
    "project_id": PROJECT,
    "task_id": TASK,
    "task_key": "WEB-42",
    "webhook_id": None,
    "comment_id": COMMENT,
    "activity_id": ACTIVITY,
    "actor": _ADA,
    "due_at": None,
    "created_at": UPDATED,
    "read_at": None,
}
_WATCHER = {"user": _MAX_PERSON, "created_at": CREATED}

EXAMPLES: dict[str, Any] = {
    "DeliveryRead": _DELIVERY,
    "DeliveryStatus": "succeeded",
    "EventMessage": {"type": "task.updated", "timestamp": UPDATED, "data": _ACTIVITY},
    "Page_DeliveryRead_": _page(_DELIVERY),
    "Page_WebhookRead_": _page(_WEBHOOK),
    "PingData": {"webhook_id": WEBHOOK, "project_id": PROJECT},
    "PingMessage": {
        "type": "webhook.ping",
        "timestamp": UPDATED,
        "data": {"webhook_id": WEBHOOK, "project_id": PROJECT},
    },
    "WebhookCreate": {
        "url": "https://hooks.example.com/tasklane",
        "events": ["task.created", "task.updated"],
    },
    "WebhookEvent": "task.created",
    "WebhookRead": _WEBHOOK,
    "WebhookUpdate": {"active": False},
    "WebhookWithSecret": {**_WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "ActivityChanges": _CHANGES,
    "ActivityRead": _ACTIVITY,
    "ActivityVerb": "task.updated",
    "ActorSummary": _ADA,
    "AssigneeCount": {"user_id": MAX, "display_name": "Max Planck", "handle": "max", "count": 7},
    "AssigneeSummary": _MAX_PERSON,
    "AuthorSummary": _MAX_PERSON,
    "Body_auth-token": {"username": "ada@example.com", "password": "correct horse battery staple"},
    "BulkChanges": {"status": "done", "add_labels": ["released"]},
    "BulkItemResult": {"id": TASK, "result": "updated", "detail": None},
    "BulkResult": {
        "results": [
            {"id": TASK, "result": "updated", "detail": None},
            {"id": PARENT, "result": "not_found", "detail": "No such task in this project."},
        ]
    },
    "BulkUpdate": {"ids": [TASK, PARENT], "set": {"status": "done", "add_labels": ["released"]}},
    "CommentRead": _COMMENT,
    "AttachmentRead": _ATTACHMENT,
    "Page_AttachmentRead_": _page(_ATTACHMENT),
    "CommentWrite": {"body": "Reproduced on Firefox; the cookie is set for the wrong path."},
    "DayCount": {"date": "2026-12-01", "created": 5, "completed": 3},
    "DependencyCheck": {"status": "ok", "latency_ms": 0.41, "error": None},
    "GlobalRole": "user",
    "Liveness": {"status": "ok"},
    "LogoutRequest": {"refresh_token": "tlr_9vQpZ0m2c4Lw7s1KxE8yB3nH6jR5tU0aD2fG4hJ6kL8"},
    "LabelCreate": {
        "name": "Bug",
        "color": "#e5484d",
        "description": "Something does not work as documented.",
    },
    "LabelRead": _LABEL,
    "LabelUpdate": {"name": "Defect", "color": "#f76b15"},
    "NotificationKind": "commented",
    "NotificationRead": _NOTIFICATION,
    "NotificationsMark": {"up_to": UPDATED},
    "Page_NotificationRead_": _page(_NOTIFICATION),
    "Page_WatcherRead_": _page(_WATCHER),
    "PersonSummary": _MAX_PERSON,
    "UnreadCount": {"unread": 3},
    "UserEventData": {"notification": _NOTIFICATION, "unread": 3},
    "UserEventKind": "notification",
    "WatchRead": {"task_id": TASK, "watching": True},
    "WatcherRead": _WATCHER,
    "MemberAdd": {"email": "max@example.com", "role": "member"},
    "MemberRead": _MEMBER,
    "MentionRead": _ADA_MENTION,
    "MemberUpdate": {"role": "admin"},
    "Page_ActivityRead_": _page(_ACTIVITY),
    "Page_CommentRead_": _page(_COMMENT),
    "Page_LabelRead_": _page(_LABEL),
    "Page_MemberRead_": _page(_MEMBER),
    "Page_ProjectRead_": _page(_PROJECT),
    "Page_RelationRead_": _page(_RELATION),
    "Page_SessionRead_": _page(_SESSION),
    "Page_TaskRead_": {**_page(_TASK), "total": 128},
    "Page_TokenRead_": _page(_TOKEN),
    "Page_UserRead_": _page(_USER),
    "Priority": 2,
    "PriorityCount": {"priority": 2, "count": 11},
    "ProfileUpdate": {"display_name": "Ada King"},
    "ProjectCreate": {"name": "Website", "key": "WEB", "description": "The public website and its sign-in."},
    "ProjectRead": _PROJECT,
    "ProjectRole": "member",
    "ProjectStats": {
        "total": 128,
        "by_status": [{"status": "in_progress", "count": 9}, {"status": "done", "count": 74}],
        "by_priority": [{"priority": 2, "count": 11}],
        "by_assignee": [{"user_id": MAX, "display_name": "Max Planck", "handle": "max", "count": 7}],
        "unassigned": 31,
        "overdue": 4,
        "daily": [{"date": "2026-12-01", "created": 5, "completed": 3}],
    },
    "ProjectUpdate": {"description": "The public website, its sign-in and the blog."},
    "Readiness": {
        "status": "ok",
        "in_memory": [],
        "missing_indexes": [],
        "checks": {
            "mongodb": {"status": "ok", "latency_ms": 0.41, "error": None},
            "redis": {"status": "ok", "latency_ms": 0.12, "error": None},
        },
    },
    "RelatedTask": _RELATED_TASK,
    "RelationChange": {"type": "blocks", "task_id": BLOCKED, "task_key": "WEB-43"},
    "RelationCreate": {"type": "blocks", "task_id": BLOCKED},
    "RelationRead": _RELATION,
    "RelationType": "blocks",
    "RelationView": "blocked_by",
    "RefreshRequest": {"refresh_token": "tlr_9vQpZ0m2c4Lw7s1KxE8yB3nH6jR5tU0aD2fG4hJ6kL8"},
    "SessionRead": _SESSION,
    "StatusCount": {"status": "in_progress", "count": 9},
    "StreamTicket": {
        "ticket": TICKET,
        "url": f"https://api.tasklane.example/api/v1/projects/{PROJECT}/events?ticket={TICKET}",
        "expires_at": "2026-12-01T14:03:11Z",
    },
    "Target": {"type": "task", "id": TASK, "key": "WEB-42"},
    "TaskBatch": {
        "tasks": [
            {"title": "Fix the login redirect loop", "assignee_ids": [MAX]},
            {"title": "Write the release notes", "assignee_ids": [OUTSIDER]},
        ]
    },
    "TaskBatchCreated": _BATCH_CREATED,
    "TaskBatchFailed": _BATCH_FAILED,
    "TaskBatchResult": {"results": [_BATCH_CREATED, _BATCH_FAILED]},
    "TaskCreate": {
        "title": "Fix the login redirect loop",
        "description": "After a password reset the login page redirects to itself.",
        "priority": 2,
        "labels": ["bug", "auth"],
        "assignee_ids": [MAX],
        "due_at": "2026-12-10T17:00:00Z",
    },
    "TaskMove": {"after_id": PARENT, "status": "in_progress"},
    "TaskRead": _TASK,
    "TaskSort": "rank",
    "TaskStatus": "in_progress",
    "TaskUpdate": {"status": "in_review", "assignee_ids": [MAX, ADA]},
    "TokenCreate": {"name": "CI deploy bot", "expires_at": "2027-06-01T00:00:00Z"},
    "TokenCreated": {**_TOKEN, "token": "tlp_Xk3vQ8nB2mZ5cL0wR7tY4uI1oP6aS9dF3gH5jK8lM0"},
    "TokenPair": {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2YjAyMDFlOGMwZmZlZTAwMDAwMDAwMDEifQ.c2ln",
        "token_type": "bearer",
        "expires_in": 900,
        "refresh_token": "tlr_9vQpZ0m2c4Lw7s1KxE8yB3nH6jR5tU0aD2fG4hJ6kL8",
    },
    "TokenRead": _TOKEN,
    "UserAdminUpdate": {"disabled": True},
    "UserRead": _USER,
    "UserRegister": {
        "email": "ada@example.com",
        "password": "correct horse battery staple",
        "display_name": "Ada Lovelace",
        "handle": "ada",
    },
}
