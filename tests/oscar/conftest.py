"""Fixtures of the Oscar suite, run under its own host: ``pytest --ds=tests.hosts.oscar_host tests/oscar``.

A process has one settings module, and the default one (config.settings) has no Oscar: there, this
folder is not collected at all.
"""

import pytest
from django.conf import settings

if "loyalty.integrations.oscar" not in settings.INSTALLED_APPS:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def shop(db, market):
    """A small Oscar shop in EUR (the ``market`` fixture's currency) with Oscar's own checkout."""
    # Imported here: this module is also loaded under hosts without Oscar, to skip the folder.
    from .shop import Shop

    return Shop()


@pytest.fixture
def customer(member):
    """A signed-up shopper who is a member of the EU market."""
    return member.user
