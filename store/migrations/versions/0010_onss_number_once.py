"""an ONSS number is the domain of one enterprise: unique across enterprises for the "Employeur ONSS" kind

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ONSS = sa.text("name = 'Employeur ONSS'")
SHARED = sa.text("SELECT identifier, enterprise_number FROM domains WHERE name = 'Employeur ONSS' AND identifier IN "
                 "(SELECT identifier FROM domains WHERE name = 'Employeur ONSS' GROUP BY identifier "
                 "HAVING COUNT(*) > 1) ORDER BY identifier, enterprise_number")


def upgrade() -> None:
    shared = op.get_bind().execute(SHARED).all()
    if shared:  # which enterprise the number is is a decision for people, not for a migration
        listed = "; ".join(f"{identifier} in enterprise {number}" for identifier, number in shared)
        raise RuntimeError("migration 0010: an ONSS number may be the domain of one enterprise only, and these are "
                           f"shared: {listed}. Remove the wrong domains (one per number), then "
                           "run `gga db upgrade` again.")
    op.create_index("uq_domains_onss_number", "domains", ["identifier"], unique=True, sqlite_where=ONSS,
                    postgresql_where=ONSS)


def downgrade() -> None:
    op.drop_index("uq_domains_onss_number", table_name="domains")
