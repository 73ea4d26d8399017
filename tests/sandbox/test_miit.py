"""miit: CAS 2.0 and 3.0 service validation (CAS Protocol 3.0 specification §2.5, §2.6)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from sandbox.testing import portal_login

from .conftest import CALLBACK

SERVICE = CALLBACK.format("miit") + "?state=abc"
NS = {"cas": "http://www.yale.edu/tp/cas"}


def _ticket(sandbox, http, username, service=SERVICE):
    params = portal_login(f"{sandbox.url}/miit/cas/login?" + urlencode({"service": service}), username,
                          "Portal@2026", http)
    assert params["state"] == "abc" and params["ticket"].startswith("ST-")
    return params["ticket"]


def _validate(sandbox, http, ticket, path="p3/serviceValidate", service=SERVICE):
    response = http.get(f"{sandbox.url}/miit/cas/{path}", params={"service": service, "ticket": ticket})
    assert response.headers["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.text)


def test_cas3_answers_the_user_with_attributes(sandbox, http):
    root = _validate(sandbox, http, _ticket(sandbox, http, "91110114MA04CP5F95"))
    assert root.findtext("cas:authenticationSuccess/cas:user", namespaces=NS) == "91110114MA04CP5F95"
    attrs = {e.tag.split("}")[1]: e.text for e in root.find("cas:authenticationSuccess/cas:attributes", NS)}
    assert attrs["userType"] == "legal" and attrs["certLevel"] == "3" and attrs["mobile"] == "13800138014"
    assert attrs["entName"] == "北京示例精工股份有限公司" and attrs["creditCode"] == "91110114MA04CP5F95"
    assert attrs["name"]


def test_cas3_natural_person(sandbox, http):
    root = _validate(sandbox, http, _ticket(sandbox, http, "miit_person"))
    attrs = root.find("cas:authenticationSuccess/cas:attributes", NS)
    assert attrs.findtext("cas:userType", namespaces=NS) == "natural"
    assert attrs.find("cas:creditCode", NS) is None


def test_cas2_answers_the_user_only(sandbox, http):
    root = _validate(sandbox, http, _ticket(sandbox, http, "miit_person"), path="serviceValidate")
    assert root.findtext("cas:authenticationSuccess/cas:user", namespaces=NS) == "miit_person"
    assert root.find("cas:authenticationSuccess/cas:attributes", NS) is None


def test_a_ticket_works_once(sandbox, http):
    ticket = _ticket(sandbox, http, "miit_person")
    _validate(sandbox, http, ticket)
    failure = _validate(sandbox, http, ticket).find("cas:authenticationFailure", NS)
    assert failure.get("code") == "INVALID_TICKET"


def test_a_ticket_for_another_service_is_refused_and_spent(sandbox, http):
    ticket = _ticket(sandbox, http, "miit_person")
    other = _validate(sandbox, http, ticket, service=CALLBACK.format("miit") + "?state=other")
    assert other.find("cas:authenticationFailure", NS).get("code") == "INVALID_SERVICE"
    assert _validate(sandbox, http, ticket).find("cas:authenticationFailure", NS).get("code") == "INVALID_TICKET"


def test_unregistered_service_gets_an_error_page(sandbox, http):
    response = http.get(f"{sandbox.url}/miit/cas/login", params={"service": "http://evil.example/cb"},
                        allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "工业和信息化部" in response.text


def test_invalid_ticket_fault(sandbox, http):
    sandbox.faults("miit")["invalid_ticket"] = True
    failure = _validate(sandbox, http, _ticket(sandbox, http, "miit_person")).find("cas:authenticationFailure", NS)
    assert failure.get("code") == "INVALID_TICKET"
