import pytest
from rest_framework.test import APIClient


@pytest.fixture
def client_for():
    def make(member):
        client = APIClient()
        client.force_login(member.user)
        return client

    return make
