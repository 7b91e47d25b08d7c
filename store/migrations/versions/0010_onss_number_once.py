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


def upgrade() -> None:
    op.create_index("uq_domains_onss_number", "domains", ["identifier"], unique=True, sqlite_where=ONSS,
                    postgresql_where=ONSS)


def downgrade() -> None:
    op.drop_index("uq_domains_onss_number", table_name="domains")
