"""The registry of personal data is complete: a model linked to a member cannot be left out of it."""

from django.apps import apps

from loyalty.models import Member, PointsAccount
from loyalty.personal_data import REGISTRY
from loyalty.routers import PERSONAL_MODELS

# Linked to a member but holding nothing of the person beyond what the registered rows show.
BOOKKEEPING = {
    "loyalty.LotAllocation": "which lot paid for which debit: internal to the ledger",
}


def member_linked_models() -> set[str]:
    linked = set()
    for model in apps.get_app_config("loyalty").get_models():
        relations = {
            field.related_model
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model in (Member, PointsAccount)
        }
        if relations or any(field.name == "subject_id" for field in model._meta.concrete_fields):
            linked.add(model._meta.label)
    return linked | {"loyalty.Member"}


def test_every_model_linked_to_a_member_is_in_the_registry():
    registered = {section.model for section in REGISTRY}
    missing = member_linked_models() - registered - set(BOOKKEEPING)
    assert not missing, f"Register these models in loyalty/personal_data.py: {sorted(missing)}"


def test_every_registered_field_exists(db):
    for section in REGISTRY:
        model = apps.get_model(section.model)
        str(model.objects.values(*section.fields).query)
        for name in section.personal:
            model._meta.get_field(name)


def test_every_model_in_a_residency_database_is_registered_with_personal_fields():
    residency = {
        section.model_class._meta.model_name for section in REGISTRY if section.in_residency_database
    }
    assert residency == PERSONAL_MODELS
    assert all(section.personal for section in REGISTRY if section.in_residency_database)
