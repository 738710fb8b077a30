import pytest

from backend.testing import Team
from tests.relations.helpers import Ops


@pytest.fixture
async def ops(team: Team) -> Ops:
    created = await team.owner.client.post("/api/v1/projects", json={"name": "Operations", "key": "OPS"})
    assert created.status_code == 201, created.text
    return Ops(created.json(), team.owner)
