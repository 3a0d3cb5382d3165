"""Admin API: a contest's households (listed, added, edited, deleted), their access codes and absences."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from contest.absences import AbsenceService
from contest.contests import ContestService
from contest.domain import MeterInfo
from contest.households import HouseholdService
from web.admin.deps import CONFLICT, ERRORS, NOT_FOUND, AdminDeps, RowId, staff_guard
from web.admin.shapes import (
    AbsenceItem,
    AccessCodeOut,
    HouseholdCreated,
    HouseholdIn,
    HouseholdItem,
    HouseholdPatch,
    given,
)


class AdminHouseholds(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [staff_guard]
    security = [{"StaffToken": []}]

    @get(
        "/contests/{slug:str}/households",
        sync_to_thread=True,
        summary="A contest's households (public or not)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def households(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> list[HouseholdItem]:
        with admin.db.session() as s:
            return [HouseholdItem.from_record(h) for h in HouseholdService(s).records(slug)]

    @post(
        "/contests/{slug:str}/households",
        sync_to_thread=True,
        summary="Add a household; its access code is returned once",
        description="A pseudonym the contest has is refused (409) and nothing changes: a new code is the "
        "household's access-code action, other facts are edited. An unknown team is refused (400, the "
        "detail lists the contest's teams) unless create_team is true.",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def add_household(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: JSONBody[HouseholdIn]
    ) -> HouseholdCreated:
        with admin.db.session() as s:
            carrier = ContestService(s).get(slug).carrier  # a meter's carrier defaults to the contest's
            households = HouseholdService(s)
            info, code = households.add(
                slug,
                data.pseudonym,
                persons=data.persons,
                team=data.team,
                public_listing=data.public,
                living_area_m2=data.living_area_m2,
                building_type=data.building_type,
                electric_hot_water=data.electric_hot_water,
                meters=[MeterInfo(m.id, m.carrier or carrier, m.kind) for m in data.meters],
                create_team=data.create_team,
            )
        return HouseholdCreated(info.id, info.pseudonym, code, [m.external_id for m in info.meters])

    @get(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="A household",
        responses={**ERRORS, **NOT_FOUND},
    )
    def household(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> HouseholdItem:
        with admin.db.session() as s:
            return HouseholdItem.from_record(HouseholdService(s).record(household_id))

    @patch(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="Edit a household (pseudonym, team, persons, living area, public listing, building)",
        description="The contest is republished in the background at once with the change.",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def edit_household(
        self, admin: NamedDependency[AdminDeps], household_id: RowId, data: JSONBody[HouseholdPatch]
    ) -> HouseholdItem:
        with admin.db.session() as s:
            record = HouseholdService(s).update(
                household_id,
                pseudonym=given(data.pseudonym),
                team=given(data.team),
                persons=given(data.persons),
                living_area_m2=given(data.living_area_m2),
                public_listing=given(data.public),
                building_type=given(data.building_type),
                electric_hot_water=given(data.electric_hot_water),
                create_team=data.create_team,
            )
        admin.publishing.publish_soon(record.contest_slug, reason="settings")
        return HouseholdItem.from_record(record)

    @delete(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="Delete a household with all its data (meters, readings, imports, rejected records)",
        description="The contest is republished in the background at once, without the household.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def delete_household(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> None:
        with admin.db.session() as s:
            slug = HouseholdService(s).delete(household_id)  # as when the household deletes itself
        admin.publishing.publish_soon(slug, reason="deletion")

    @post(
        "/households/{household_id:int}/access-code",
        sync_to_thread=True,
        summary="Issue a new access code (returned once; the old one stops working)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def new_access_code(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> AccessCodeOut:
        with admin.db.session() as s:
            info, code = HouseholdService(s).issue_access_code(household_id)
        return AccessCodeOut(info.id, info.pseudonym, code)

    @get(
        "/households/{household_id:int}/absences",
        sync_to_thread=True,
        summary="The days a household declared itself away (they leave both periods of its score)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def absences(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> list[AbsenceItem]:
        with admin.db.session() as s:
            HouseholdService(s).get(household_id)  # unknown household: 404
            found = AbsenceService(s).of_household(household_id)
        return [AbsenceItem(a.id, a.first_day, a.last_day, a.days, a.note) for a in found]
