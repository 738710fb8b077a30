from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.core.ids import parse_id
from backend.labels.documents import Label
from backend.labels.errors import LabelNotFound
from backend.labels.service import LabelService
from backend.projects.dependencies import ProjectScopeDep
from backend.resources import AppResources, resources_of


def label_service(resources: AppResources) -> LabelService:
    return LabelService(resources.cursors, activity_service(resources), resources.stores.generations)


async def get_label_service(request: Request) -> LabelService:
    return label_service(resources_of(request.app))


LabelServiceDep = Annotated[LabelService, Depends(get_label_service)]


async def label_in_project(label_id: str, scope: ProjectScopeDep, labels: LabelServiceDep) -> Label:
    """A label of a project the caller can see; anything else is 404 (the project's first)."""
    return await labels.get(scope.project_id, parse_id(label_id, LabelNotFound))


LabelInProject = Annotated[Label, Depends(label_in_project)]
