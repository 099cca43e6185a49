"""The public face of the math: ``digicomp.calibrate`` and ``digicomp.score``, which also take files and banks.

:mod:`digicomp.calibration` and :mod:`digicomp.scoring` take arrays in and give arrays out (Responses,
ItemParameters, a :class:`~digicomp.calibration.CalibrationResult`). Reading response files and parameter tables,
loading anchor banks, writing a calibration's mirt table and building the next bank version from it happen here,
above the math, the files and the banks (DESIGN.md, Layout: "math knows nothing of YAML, banks or sessions").
One module per function, so that ``digicomp score`` never imports calibration.
"""
