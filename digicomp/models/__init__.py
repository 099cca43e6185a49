"""IRT item response models, vectorized over persons × items × quadrature points.

Dichotomous Rasch/1PL/2PL/3PL/4PL, Samejima's graded response model, Muraki's generalized partial
credit model and the partial credit model, held as arrays in :class:`ItemParameters`; their compensatory
multidimensional versions (slope vectors, mirt's slope–intercept form) as arrays in :mod:`digicomp.models.multidim`;
Bock's nominal response model (mirt's parameterisation) in :class:`NominalParameters`.
Model names as typed (digicomp's or R mirt's ``itemtype``) are read by :func:`model_name`
(:mod:`digicomp.models.names`).
"""

from digicomp.models import multidim
from digicomp.models.names import DICHOTOMOUS_MODELS, MODELS, POLYTOMOUS_MODELS, model_name
from digicomp.models.nominal import NominalParameters
from digicomp.models.parameters import ItemParameters

__all__ = [
    "ItemParameters",
    "NominalParameters",
    "MODELS",
    "DICHOTOMOUS_MODELS",
    "POLYTOMOUS_MODELS",
    "model_name",
    "multidim",
]
