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
    pretrain_finetune,
    unimodal,
)
from polymodal.balance.base import BALANCERS, Balancer, build_balancer

__all__ = ["BALANCERS", "Balancer", "build_balancer"]
