"""IRT item response models, vectorized over persons × items × quadrature points.

Dichotomous Rasch/1PL/2PL/3PL/4PL, Samejima's graded response model, Muraki's generalized partial
credit model and the partial credit model, held as arrays in :class:`ItemParameters`.
"""

from digicomp.models.parameters import DICHOTOMOUS_MODELS, MODELS, POLYTOMOUS_MODELS, ItemParameters

__all__ = ["ItemParameters", "MODELS", "DICHOTOMOUS_MODELS", "POLYTOMOUS_MODELS"]
