"""Closed vocabularies the policy language uses: entities, fideslang categories, countries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tutela.base.identifiers import ENTITY_CATEGORY, Entity

__all__ = ["ENTITY_CATEGORY", "Entity"]  # the vocabulary lives in the registry


# Categories an entity may be declared with: its own category and descendants, plus
# these close relatives (a device identifier is an ONLINE_ID filed as device_id).
ENTITY_EXTRA_CATEGORIES: dict[Entity, tuple[str, ...]] = {
    Entity.ONLINE_ID: ("user.device.device_id", "user.device.cookie", "user.unique_id"),
    Entity.GEOLOCATION: ("user.location",),
    Entity.PERSON: ("user.name",),
}


def entity_allows(entity: Entity, category: str) -> bool:
    """True when `category` is a fitting fideslang category for `entity`."""
    allowed = (ENTITY_CATEGORY[entity], *ENTITY_EXTRA_CATEGORIES.get(entity, ()))
    return any(category == a or category.startswith(a + ".") for a in allowed)


# Entities whose clear-text exposure the check treats as high risk (identity theft, fraud).
SENSITIVE_IDENTIFIER_ENTITIES = frozenset(
    {Entity.NATIONAL_ID, Entity.TAX_ID, Entity.PASSPORT, Entity.CREDIT_CARD}
)
SENSITIVE_IDENTIFIER_CATEGORIES = ("user.government_id", "user.financial.credit_card")

# The fideslang data-category keys (taxonomy v3, deprecated v2 keys kept so older
# exchanges still validate).
_FIDESLANG_KEYS = """
    system system.authentication system.operations
    user user.account user.account.settings user.account.username
    user.authorization user.authorization.credentials user.authorization.biometric
    user.authorization.biometrics user.authorization.password
    user.behavior user.behavior.browsing_history user.behavior.media_consumption
    user.behavior.purchase_history user.behavior.search_history
    user.biometric user.biometric.fingerprint user.biometric.retinal user.biometric.voice
    user.biometric.health user.biometrics user.biometrics.fingerprint user.biometrics.retinal
    user.biometrics.voice
    user.childrens user.children user.children.children_under_thirteen
    user.children.thirteen_to_sixteen
    user.contact user.contact.address user.contact.address.city user.contact.address.country
    user.contact.address.postal_code user.contact.address.state user.contact.address.street
    user.contact.address.mailing_address user.contact.email user.contact.phone_number
    user.contact.url user.contact.social_url user.contact.fax_number user.contact.organization
    user.content user.content.private user.content.public user.content.self_image
    user.criminal_history
    user.demographic user.demographic.age_range user.demographic.date_of_birth
    user.demographic.gender user.demographic.language user.demographic.marital_status
    user.demographic.political_opinion user.demographic.profile
    user.demographic.race_ethnicity user.demographic.religious_belief
    user.demographic.sexual_orientation user.demographic.citizenship_or_immigration_status
    user.demographic.philosophical_belief user.demographic.protected_classifications
    user.demographic.union_membership
    user.device user.device.cookie user.device.cookie_id user.device.device_id
    user.device.ip_address user.device.sensor user.device.telemetry
    user.financial user.financial.bank_account user.financial.credit_card
    user.government_id user.government_id.birth_certificate
    user.government_id.drivers_license_number user.government_id.immigration
    user.government_id.national_identification_number user.government_id.passport_number
    user.government_id.vehicle_registration
    user.health user.health.genetic user.health.insurance_beneficiary_id
    user.health.record_id user.health.condition user.health.medical_diagnosis
    user.health.medications user.health.prescriptions user.health.treatment
    user.health_and_medical
    user.job_title user.workplace user.professional_information
    user.location user.location.imprecise user.location.precise user.location.coarse
    user.name user.name.first user.name.last
    user.payment user.privacy_preferences user.settings user.social user.social_activity
    user.telemetry user.sensor user.user_sensor
    user.unique_id user.unique_id.pseudonymous
"""
FIDESLANG_CATEGORIES: frozenset[str] = frozenset(_FIDESLANG_KEYS.split())

# EU member states plus Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2).
_EEA = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
EEA_COUNTRIES = frozenset(_EEA.split())
# Countries with a European Commission adequacy decision (Art. 45 GDPR). The US decision
# covers only organisations certified under the EU-US Data Privacy Framework, so the US
# is not listed: declare `safeguard: eu_us_dpf` or `sccs` for it.
_ADEQUATE = "AD AR CA FO GB GG IL IM JP JE NZ KR CH UY"
ADEQUATE_COUNTRIES = frozenset(_ADEQUATE.split())


def category_within(category: str, parent: str) -> bool:
    """True when `category` is `parent` or one of its descendants."""
    return category == parent or category.startswith(parent + ".")


def suggest(word: str, choices: Iterable[object]) -> str | None:
    """The closest spelling among `choices`, for `did you mean` hints."""
    options = [str(c) for c in choices]
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return found[0] if found else None
