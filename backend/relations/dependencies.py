from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.relations.service import RelationService
from backend.resources import AppResources, resources_of


def relation_service(resources: AppResources) -> RelationService:
    return RelationService(resources.cursors, activity_service(resources), resources.stores.generations)


async def get_relation_service(request: Request) -> RelationService:
    return relation_service(resources_of(request.app))


RelationServiceDep = Annotated[RelationService, Depends(get_relation_service)]
