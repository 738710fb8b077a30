""" "Not blank" means the same to the server and to the contract's validators, whatever the script."""

import sys

import jsonschema_rs
import pytest

from backend.core.types import VISIBLE
from backend.testing import Team, problem

# Whitespace to Python (what the server strips) and to ECMA-262 (what JSON Schema's \s means).
WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()] + ["\ufeff"]
VISIBLE_BUT_ODD = ["\u200b", "\x1b", "\u00ad", "x", "東"]
CONTRACT = jsonschema_rs.validator_for({"type": "string", "minLength": 1, "pattern": VISIBLE})


def test_the_contract_refuses_whitespace_alone_and_accepts_anything_else() -> None:
    assert [hex(ord(c)) for c in WHITESPACE if CONTRACT.is_valid(c * 2)] == []
    assert [c for c in VISIBLE_BUT_ODD if not CONTRACT.is_valid(f" {c} ")] == []


@pytest.mark.parametrize("blank", WHITESPACE, ids=[hex(ord(c)) for c in WHITESPACE])
async def test_a_title_of_whitespace_alone_is_422(team: Team, blank: str) -> None:
    problem(
        await team.member.client.post(team.tasks_url, json={"title": blank * 2}), 422, "VALIDATION_FAILED"
    )


async def test_a_title_of_any_other_character_is_kept(team: Team) -> None:
    for odd in VISIBLE_BUT_ODD:
        created = await team.member.client.post(team.tasks_url, json={"title": f" {odd} "})

        assert created.status_code == 201, (hex(ord(odd)), created.text)
        assert created.json()["title"] == odd
