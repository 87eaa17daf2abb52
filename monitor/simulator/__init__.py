"""The simulated fleet: real aiohttp services on loopback, answering as the seed's did."""

from monitor.simulator.behavior import Behavior, Latency
from monitor.simulator.fleet import SimService, healthy_fleet, seed_fleet
from monitor.simulator.server import SimulatedFleet, fleet_config, fleet_config_yaml

__all__ = [
    "Behavior",
    "Latency",
    "SimService",
    "SimulatedFleet",
    "fleet_config",
    "fleet_config_yaml",
    "healthy_fleet",
    "seed_fleet",
]
