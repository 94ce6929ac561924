"""Balancing methods (one module each) and their registry."""

from polymodal.balance import joint, multiloss  # noqa: F401  (registers)
from polymodal.balance.base import BALANCERS, Balancer, build_balancer

__all__ = ["BALANCERS", "Balancer", "build_balancer"]
