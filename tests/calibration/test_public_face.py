"""The math takes arrays; files and banks are read at the public face (digicomp.calibrate, digicomp.score)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import digicomp
from digicomp.calibration import CalibrationResult
from digicomp.calibration import calibrate as calibrate_arrays
from digicomp.errors import CalibrationError, DigicompError, ResponseError
from digicomp.face.calibration import Calibration
from digicomp.models import ItemParameters
from digicomp.scoring import score as score_arrays


@pytest.fixture(scope="module")
def data():
    truth = ItemParameters.dichotomous(a=np.linspace(0.8, 1.6, 6), b=np.linspace(-1.5, 1.5, 6))
    rng = np.random.default_rng(3)
    return truth, truth.simulate(rng.normal(0, 1, 400), rng)


def test_the_public_calibrate_gives_the_math_result_with_files_and_banks(data, tmp_path):
    truth, x = data
    plain = calibrate_arrays(x, "2PL", se=False, fit=False)
    face = digicomp.calibrate(x, "2PL", se=False, fit=False)
    assert isinstance(face, CalibrationResult) and type(plain) is CalibrationResult
    assert face.params.to_file_form() == plain.params.to_file_form() and face.loglik == plain.loglik
    copied = Calibration.of(plain)
    assert all(getattr(copied, f.name) is getattr(plain, f.name) for f in dataclasses.fields(plain))
    assert not hasattr(plain, "to_bank") and not hasattr(plain, "to_csv")
    assert face.to_bank(id="pilot").n_items == 6 and face.to_csv(tmp_path / "p.csv").exists()


def test_the_math_refuses_paths_naming_the_public_face(data, tmp_path):
    truth, x = data
    path = tmp_path / "r.csv"
    path.write_text("person,item,response\np1,i1,1\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="digicomp.calibrate also reads CSV files"):
        calibrate_arrays(str(path), "2PL")
    with pytest.raises(CalibrationError, match="digicomp.calibrate also loads a bank path"):
        calibrate_arrays(x, "2PL", fixed="civil-service")
    with pytest.raises(ResponseError, match="digicomp.score also reads CSV files"):
        score_arrays(truth, path)
    with pytest.raises(DigicompError, match="digicomp.score also reads parameter tables"):
        score_arrays(str(path), x)
