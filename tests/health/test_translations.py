"""The wellness pages in German and Spanish, their words and the check-in form."""

import pytest
from django.urls import reverse

from tests.catalogues import compile_catalogues, page_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogues():
    compile_catalogues(("health",))


def test_the_wellness_page_is_in_german(client, rep):
    page = page_in(client, rep, reverse("health:index"), "de")
    for words in ["Ihr Wohlbefinden", "Heutiger Check-in", "Stress heute (0 bis 100)", "erschöpft"]:
        assert words in page
    for words in ["Your wellness", "Today's check-in", "Stress today", "exhausted"]:
        assert words not in page


def test_the_consent_page_is_in_spanish(client, rep):
    page = page_in(client, rep, reverse("health:consent"), "es")
    assert "Consentimiento para tus datos de salud" in page
    assert "Historial de tu consentimiento" in page
    assert "Your consent history" not in page
