"""``/scenarios``: scenarios validated by the library and stored under their content hash."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response
from sqlalchemy.exc import IntegrityError

from nettwin.errors import NettwinError
from nettwin.scenario.io import dump_scenario, parse_scenario
from nettwin.scenario.network import build_network
from nettwin.scenario.spec import Scenario
from nettwin.service.auth import Member, Viewer
from nettwin.service.errors import ApiError
from nettwin.service.hashing import canonical_json, digest
from nettwin.service.models import StoredScenario
from nettwin.service.routes.common import Db, Limit, Offset, not_found, tenant_page
from nettwin.service.schemas import ScenarioInfo, ScenarioRecord

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


@router.post(
    "",
    response_model=ScenarioInfo,
    status_code=201,
    responses={200: {"model": ScenarioInfo, "description": "The same scenario was stored before: its id."}},
)
def store_scenario(scenario: Scenario, principal: Member, db: Db, response: Response) -> ScenarioInfo:
    """Validate a scenario (as ``nettwin simulate`` would: schema, nodes, routes) and store it.

    The id is the SHA-256 of its canonical JSON, so storing the same scenario again gives the same id (200).
    """
    check_servable(scenario)
    body = canonical_json(dump_scenario(scenario))
    scenario_id = digest(body)
    try:
        with db.session() as session:
            row = session.get(StoredScenario, (principal.tenant, scenario_id))
            if row is None:
                row = StoredScenario(tenant=principal.tenant, id=scenario_id, name=scenario.name, body=body)
                session.add(row)
            else:
                response.status_code = 200
    except IntegrityError:
        # A request storing the same scenario committed it between our look and our write.
        with db.session() as session:
            row = session.get_one(StoredScenario, (principal.tenant, scenario_id))
        response.status_code = 200
    return ScenarioInfo.model_validate(row)


def check_servable(scenario: Scenario) -> None:
    """Refuse what the library accepts from a local user but a service must not do, and build the network so that
    unknown nodes and unreachable flows are refused now rather than when a job runs."""
    if scenario.topology.file is not None:
        raise ApiError(
            422, "topology.file: the service reads no files of its own; give the topology inline (nodes and links)"
        )
    try:
        build_network(scenario)
    except NettwinError as err:
        raise ApiError(422, str(err)) from None


@router.get("", response_model=list[ScenarioInfo])
def list_scenarios(principal: Viewer, db: Db, limit: Limit = 100, offset: Offset = 0) -> list[ScenarioInfo]:
    """The tenant's scenarios, oldest first."""
    with db.session() as session:
        order = (StoredScenario.created_at, StoredScenario.id)
        rows = tenant_page(session, StoredScenario, principal.tenant, limit, offset, *order)
        return [ScenarioInfo.model_validate(row) for row in rows]


@router.get("/{scenario_id}", response_model=ScenarioRecord)
def get_scenario(scenario_id: str, principal: Viewer, db: Db) -> ScenarioRecord:
    """One scenario, as stored."""
    with db.session() as session:
        row = session.get(StoredScenario, (principal.tenant, scenario_id))
    if row is None:
        raise not_found("scenario", scenario_id)
    return ScenarioRecord(
        id=row.id, name=row.name, created_at=row.created_at, scenario=parse_scenario(json.loads(row.body))
    )
