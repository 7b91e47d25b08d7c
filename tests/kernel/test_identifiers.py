import pytest

from kernel import identifiers
from kernel.errors import ErrorCode, GGAError
from tests import factories


@pytest.mark.parametrize("value", ["85073003328", "85.07.30-033.28", "85 07 30 033 28", "17073003384",
                                   "01490700185", factories.niss(2003, 4, 5, 7), "98472899765"])
def test_valid_niss_including_bis_and_births_from_2000(value):
    assert len(identifiers.niss(value)) == 11


@pytest.mark.parametrize("value", ["85073003329", "1234567890", "ABCDEFGHIJK", "", "85133003328"])
def test_invalid_niss_is_refused_with_its_code(value):
    with pytest.raises(GGAError) as err:
        identifiers.niss(value, "niss")
    assert err.value.code == ErrorCode.INVALID_NISS
    assert err.value.details == {"field": "niss"}


@pytest.mark.parametrize("value", ["0403019261", "0403.019.261", "0403 019 261", "0403-019-261", "BE0403019261"])
def test_enterprise_number_is_normalised(value):
    assert identifiers.enterprise_number(value) == "0403019261"


@pytest.mark.parametrize("value", ["0403019262", "12345", "0403.019.26a"])
def test_invalid_enterprise_number(value):
    with pytest.raises(GGAError) as err:
        identifiers.enterprise_number(value)
    assert err.value.code == ErrorCode.INVALID_ENTERPRISE_NUMBER


def test_onss_number_format():
    assert identifiers.onss_number("123456789") == "1234567-89"
    assert identifiers.onss_number("1234567-89") == "1234567-89"
    for bad in ("12345678", "1234567-8a", "000000000"):
        with pytest.raises(GGAError) as err:
            identifiers.onss_number(bad)
        assert err.value.code == ErrorCode.INVALID_ONSS_NUMBER


def test_api_names_the_invalid_field(client, auth):
    response = client.post("/api/v1/registrations", headers=auth(factories.niss()), json={
        "enterprise_number": "0403019262", "main_access_manager": "self",
        "contact": {"email": "a@b.be", "phone": "+3221234567"}, "confirm": True})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_ENTERPRISE_NUMBER"
    assert error["details"]["errors"][0]["field"] == "enterprise_number"
    response = client.post("/api/v1/registrations", headers=auth(factories.niss()), json={
        "enterprise_number": "0403019261", "main_access_manager": {"niss": "12345678901", "email": "a@b.be",
                                                                  "phone": "+3221234567"},
        "contact": {"email": "a@b.be", "phone": "+3221234567"}, "confirm": True})
    assert response.json()["error"]["code"] == "INVALID_NISS"
    assert response.json()["error"]["details"]["errors"][0]["field"] == "main_access_manager.niss"
