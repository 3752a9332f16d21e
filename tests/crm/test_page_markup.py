"""CRM pages obey the Content-Security-Policy: no inline scripts, handlers or styles."""

import re

import pytest
from django.urls import reverse

from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_crm_pages_have_no_inline_scripts_handlers_or_styles(rep_client, contact, deal):
    InteractionFactory(contact=contact)
    urls = [
        reverse("crm:contact_list"),
        reverse("crm:contact_new"),
        reverse("crm:contact_detail", args=[contact.pk]),
        reverse("crm:contact_edit", args=[contact.pk]),
        reverse("crm:pipeline_list"),
        reverse("crm:pipeline_board", args=[deal.pipeline_id]),
        reverse("crm:deal_list"),
        reverse("crm:deal_new"),
        reverse("crm:deal_detail", args=[deal.pk]),
        reverse("crm:deal_edit", args=[deal.pk]),
    ]
    for url in urls:
        html = rep_client.get(url).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (url, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert 'style="' not in html, url
        assert "<style" not in html, url
        assert "hx-on" not in html, url
