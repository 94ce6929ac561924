"""Balancing methods (one module each), their registry, and the classes the CLI names (``--model.balancer MLB``)."""

from polymodal.balance.agm import AGM
from polymodal.balance.base import BALANCERS, Balancer, BalancerLoss, BalancerSpec, build_balancer, resolve_balancer
from polymodal.balance.ensemble import Ensemble
from polymodal.balance.joint import Joint
from polymodal.balance.mcr import MCR
from polymodal.balance.mlb import MLB
from polymodal.balance.mmcosine import MMCosine
from polymodal.balance.mmpareto import MMPareto
from polymodal.balance.mslr import MSLR
from polymodal.balance.multiloss import MultiLoss
from polymodal.balance.ogm_ge import OGMGE
from polymodal.balance.pmr import PMR
from polymodal.balance.unimodal import Unimodal
from polymodal.balance.context import StepContext
from polymodal.balance.view import ModelView

__all__ = [
    "AGM", "BALANCERS", "MCR", "MLB", "MMCosine", "MMPareto", "MSLR", "OGMGE", "PMR", "Balancer", "BalancerLoss",
    "BalancerSpec", "Ensemble", "Joint", "ModelView", "MultiLoss", "StepContext", "Unimodal", "build_balancer",
    "resolve_balancer",
]
