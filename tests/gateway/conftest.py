import pytest

from admin_api.identity import Caller
from admin_api.registration.service import Designation, designate
from admin_api.registry import import_extract
from kernel.catalogue import EMPLOYER_ONSS, applications_of_domain
from store.models import Domain, DomainApplication, Enterprise
from tests import factories
from tests.gateway.harness import GatewayHarness


@pytest.fixture
def limits() -> dict:
    """Settings of the test's gateway over the defaults; a test that needs small limits parametrizes it."""
    return {}


@pytest.fixture
def harness(services, limits):
    running = GatewayHarness(services)
    running.settings = running.settings.model_copy(update=limits)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def kit(db, harness, tmp_path):
    """An enterprise, its GAP, one "Employeur ONSS" domain, and the gateway test sender."""
    number, gap = factories.enterprise_number(404040), factories.niss(1970, 4, 4, 44)
    with db.session() as session:
        import_extract(session, factories.registry_extract({number: [gap]}, {gap: ("Gina", "Gateway")}))
        enterprise = session.get(Enterprise, number)
        designate(session, Caller(gap, "eid"), enterprise, Designation(gap, "g@a.be", "021111111", gap, "g@a.be",
                                                                       "021111111"))
        domain = Domain(enterprise_number=number, name=EMPLOYER_ONSS, identifier="4040404-04",
                        applications=[DomainApplication(code=c) for c in applications_of_domain(EMPLOYER_ONSS)])
        session.add(domain)
        session.flush()
        domain_id = domain.id
    return harness.make_sender(domain_id, gap, tmp_path)
