"""`gga serve --demo`: an enterprise, its GAP, an "Employeur ONSS" domain (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from admin_api.catalogue import EMPLOYER_ONSS, applications_of_domain
from admin_api.http import Services
from admin_api.models import Domain, DomainApplication, Enterprise
from admin_api.registration.service import Designation, designate
from admin_api.registry import import_extract

DEMO_ENTERPRISE = "0403019261"
DEMO_GAP_NISS = "85073003328"
DEMO_ONSS = "1234567-89"
DEMO_EXTRACT = {
    "persons": [{"niss": DEMO_GAP_NISS, "first_name": "Anne", "last_name": "Demo"}],
    "enterprises": [{"number": DEMO_ENTERPRISE, "name": "Demo Payroll SA", "address": "Rue de la Loi 1, 1000 Bruxelles",
                     "legal_representatives": [{"niss": DEMO_GAP_NISS, "function": "Administrateur délégué",
                                                "start": "2015-01-01", "end": None}]}],
}


def seed(services: Services) -> dict:
    with services.db.session() as session:
        import_extract(session, DEMO_EXTRACT)
        enterprise = session.get(Enterprise, DEMO_ENTERPRISE)
        assert enterprise is not None
        if enterprise.main_manager_niss is None:
            designate(session, "system", enterprise, Designation(  # type: ignore[arg-type]
                DEMO_GAP_NISS, "direction@demo-payroll.be", "+3221234567",
                DEMO_GAP_NISS, "direction@demo-payroll.be", "+3221234567"))
        domain = session.scalar(select(Domain).where(Domain.enterprise_number == DEMO_ENTERPRISE,
                                                     Domain.name == EMPLOYER_ONSS))
        if domain is None:
            domain = Domain(enterprise_number=DEMO_ENTERPRISE, name=EMPLOYER_ONSS, identifier=DEMO_ONSS,
                            applications=[DomainApplication(code=c) for c in applications_of_domain(EMPLOYER_ONSS)])
            session.add(domain)
            session.flush()
        info = {"enterprise_number": DEMO_ENTERPRISE, "domain_id": domain.id, "gap_niss": DEMO_GAP_NISS}
    demo_dir = services.settings.resolved_data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    _write_howto(demo_dir, info)
    return info


def _write_howto(demo_dir: Path, info: dict) -> None:
    (demo_dir / "enterprise.json").write_text(json.dumps(info, indent=2))
    (demo_dir / "README.txt").write_text(f"""gga demo
========
Enterprise {info['enterprise_number']}, main access manager (GAP) NISS {info['gap_niss']},
domain "Employeur ONSS" id {info['domain_id']}.

Admin API as the GAP:
  TOKEN=$(gga token --niss {info['gap_niss']})
  curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/enterprises/{info['enterprise_number']}
  curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/domains/{info['domain_id']}/users
""")
