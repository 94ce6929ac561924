"""Balancing methods (one module each) and their registry."""

from polymodal.balance import (  # noqa: F401  (registers)
    agm,
    ensemble,
    joint,
    mcr,
    mlb,
    mmcosine,
    mmpareto,
    mslr,
    multiloss,
    ogm_ge,
    pmr,
    unimodal,
)
from polymodal.balance.base import BALANCERS, Balancer, BalancerLoss, build_balancer
from polymodal.balance.context import StepContext
from polymodal.balance.view import ModelView

__all__ = ["BALANCERS", "Balancer", "BalancerLoss", "ModelView", "StepContext", "build_balancer"]
