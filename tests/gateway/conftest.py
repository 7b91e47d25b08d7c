import pytest

from tests.admin_api.world import make_world
from tests.gateway.harness import GatewayHarness


@pytest.fixture
def harness(services):
    running = GatewayHarness(services).start()
    yield running
    running.stop()


@pytest.fixture
def kit(db, client, auth, harness, tmp_path):
    world = make_world(db, client, auth, with_sender=False)
    return harness.make_sender(world.domain, world.gap, tmp_path)
