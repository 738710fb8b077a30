"""A relation's stored shape: one key per pair and type, and how each end reads it."""

import pytest
from beanie import PydanticObjectId

from backend.relations.documents import RelationType, RelationView, TaskRelation, pair_key

A, B = PydanticObjectId(), PydanticObjectId()


@pytest.mark.parametrize("type_", [RelationType.RELATES_TO, RelationType.DUPLICATES])
def test_a_pair_has_one_key_whichever_way_it_points(type_: RelationType) -> None:
    assert pair_key(type_, A, B) == pair_key(type_, B, A)


def test_blocks_keeps_its_direction_the_reverse_is_a_cycle_not_a_copy() -> None:
    assert pair_key(RelationType.BLOCKS, A, B) != pair_key(RelationType.BLOCKS, B, A)


def test_each_type_has_its_own_key() -> None:
    assert len({pair_key(type_, A, B) for type_ in RelationType}) == len(RelationType)


@pytest.mark.parametrize(
    ("type_", "from_source", "from_target"),
    [
        (RelationType.BLOCKS, RelationView.BLOCKS, RelationView.BLOCKED_BY),
        (RelationType.DUPLICATES, RelationView.DUPLICATES, RelationView.DUPLICATED_BY),
        (RelationType.RELATES_TO, RelationView.RELATES_TO, RelationView.RELATES_TO),
    ],
)
def test_each_end_sees_its_side(
    type_: RelationType, from_source: RelationView, from_target: RelationView
) -> None:
    project = PydanticObjectId()
    relation = TaskRelation(
        type=type_,
        source_task_id=A,
        source_project_id=project,
        target_task_id=B,
        target_project_id=project,
        pair=pair_key(type_, A, B),
        created_by=PydanticObjectId(),
    )

    assert (relation.seen_from(A), relation.other_end(A)) == (from_source, B)
    assert (relation.seen_from(B), relation.other_end(B)) == (from_target, A)
    assert relation.has_end(A)
    assert relation.has_end(B)
    assert not relation.has_end(PydanticObjectId())
