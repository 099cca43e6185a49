"""Monte Carlo studies of CAT designs: simulated persons in lock-step through the live engine's core.

``simulate(designs, n=..., seed=...)`` returns a :class:`SimulationResult` (per-person outcomes, summaries,
conditional tables, exposure, classification, CSV / JSON / plots). See docs/simulation.md.
"""

from digicomp.simulation.population import draw_thetas, parse_population
from digicomp.simulation.responder import Responder
from digicomp.simulation.results import DesignResult, SimulationResult
from digicomp.simulation.study import simulate

__all__ = ["DesignResult", "Responder", "SimulationResult", "draw_thetas", "parse_population", "simulate"]
