"""The ItemBank: a validated bank file plus the contiguous arrays the adaptive engine works on.

The validated file (:class:`~digicomp.bank.schema.BankFile`) is the single source of truth; ``params`` and
the index arrays are derived from it once, at construction, so the hot path never touches per-item objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.checks import file_form_records
from digicomp.bank.fingerprint import fingerprint
from digicomp.bank.schema import RATED, BankFile, Item, Scale
from digicomp.errors import BankError, DigicompError, ParameterError
from digicomp.models import ItemParameters

KINDS = (
    "multiple_choice",
    "multiple_response",
    "ordering",
    "matching",
    "short_answer",
    "rated_task",
    "self_assessment",
    "parameters",
)


def natural_key(code: str) -> tuple:
    """Sort key that orders competence codes as people do: 1.2 < 1.10, and 0.1 < 1.1 < A.1."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-_]", code))


class ItemBank:
    """An item bank: parameters as arrays (``params``), engine index arrays, and item content by id.

    Index arrays, one entry per item in bank order: ``competence_index`` (into ``competences``, -1 when an
    item has no competence), ``level`` (intended level 1..8, 0 when none), ``kind`` (one of ``KINDS``) and
    ``is_scored`` (True except for self-assessment items, which describe rather than demonstrate
    competence), ``is_rated`` (True for items a rater scores after the sitting, which no adaptive test gives);
    ``enemy_pairs`` lists each pair of items never to give together once, as (i, j), i < j.
    """

    def __init__(
        self,
        spec: BankFile,
        source: str | PathLike[str] | None = None,
        framework: Any = None,
        params: ItemParameters | None = None,
        media_root: str | PathLike[str] | None = None,
    ) -> None:
        self.spec = spec
        self.source = Path(source) if source is not None else None
        # the folder the items' media paths are relative to: the file's folder, or the bank this one was made from
        self.media_root = Path(media_root) if media_root is not None else (self.source.parent if self.source else None)
        self._framework = framework
        where = f"{self.source}: " if self.source else ""
        # multidimensional banks: the dimensions (bank.dimensions.Dimensions) and the slope-intercept arrays
        self.dims, self.mparams = None, None
        try:
            if spec.dimensions is not None:
                from digicomp.bank import dimensions

                self.dims = dimensions.Dimensions.from_spec(spec)
                self.mparams = dimensions.items_of(spec)
                params = params or dimensions.direction_view(self.mparams)
            # ``params`` (the arrays ``spec`` was written from) saves re-deriving them from the file form
            self.params: ItemParameters = params or ItemParameters.from_file_form(
                file_form_records(spec.items), D=spec.scale.D
            )
        except ParameterError as exc:
            raise BankError(f"{where}{exc}") from None
        self.ids: list[str] = list(self.params.ids)
        self._position = {item_id: j for j, item_id in enumerate(self.ids)}
        if len(self._position) != len(self.ids):
            raise BankError(f"{where}item ids are not unique")
        codes = [item.competence for item in spec.items]
        self.competences: list[str] = sorted({c for c in codes if c is not None}, key=natural_key)
        lookup = {c: k for k, c in enumerate(self.competences)}
        self.competence_index: NDArray[np.intp] = np.array([lookup.get(c, -1) for c in codes], dtype=np.intp)
        self.level: NDArray[np.intp] = np.array([item.level or 0 for item in spec.items], dtype=np.intp)
        self.kind: NDArray[np.str_] = np.array([item.kind for item in spec.items], dtype=f"<U{max(map(len, KINDS))}")
        self.is_scored: NDArray[np.bool_] = self.kind != "self_assessment"
        self.is_rated: NDArray[np.bool_] = np.isin(self.kind, sorted(RATED))
        self.enemy_pairs: NDArray[np.intp] = self._enemy_pairs(where)

    def _enemy_pairs(self, where: str) -> NDArray[np.intp]:
        pairs = set()
        for j, item in enumerate(self.spec.items):
            for other in item.enemies or []:
                k = self._position.get(other)
                if k is None or k == j:
                    raise BankError(f"{where}item {item.id!r}: field 'enemies' names {other!r}, not another item")
                pairs.add((min(j, k), max(j, k)))
        return np.array(sorted(pairs), dtype=np.intp).reshape(-1, 2)

    # ----------------------------------------------------------------- identity
    @property
    def id(self) -> str:
        """The bank's id."""
        return self.spec.id

    @property
    def version(self) -> str:
        """The bank's version string."""
        return self.spec.version

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.ids)

    @property
    def scale(self) -> Scale:
        """The θ scale: ``D``, the reporting ``levels`` and the ``cut_scores`` between them."""
        return self.spec.scale

    @property
    def cut_scores(self) -> NDArray[np.float64]:
        """Cut scores on θ between the reporting levels, as an array (empty when the bank has none)."""
        return np.array(self.spec.scale.cut_scores or [], dtype=float)

    @cached_property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` content hash: changes with any parameter, key or text, not with YAML layout."""
        return fingerprint(self.to_dict())

    def __len__(self) -> int:
        """Number of items."""
        return self.n_items

    def __iter__(self) -> Iterator[Item]:
        """The items' full records, in bank order."""
        return iter(self.spec.items)

    def __contains__(self, item_id: object) -> bool:
        """Whether the bank has an item with this id."""
        return isinstance(item_id, str) and item_id in self._position

    def __getitem__(self, item_id: str) -> Item:
        """The full record of item ``item_id`` (``bank.items[k]`` for the k-th item); BankError if absent."""
        if not isinstance(item_id, str):
            raise TypeError(
                f"bank[{item_id!r}]: items are looked up by id (a string); use bank.items[{item_id!r}] for a position"
            )
        return self.item(item_id)

    @property
    def items(self) -> tuple[Item, ...]:
        """The items' full records (content, tags, parameters, provenance), in bank order."""
        return tuple(self.spec.items)

    def __repr__(self) -> str:
        return f"ItemBank(id={self.id!r}, version={self.version!r}, n_items={self.n_items})"

    # ----------------------------------------------------------------- content
    def item(self, item_id: str) -> Item:
        """The full record (content, tags, parameters, provenance) of item ``item_id``."""
        try:
            return self.spec.items[self._position[item_id]]
        except KeyError:
            raise BankError(f"bank {self.id!r} has no item {item_id!r}") from None

    def index_of(self, item_ids: str | list[str]) -> int | NDArray[np.intp]:
        """Position(s) of item id(s) in the bank's arrays."""
        if isinstance(item_ids, str):
            return self._position[self.item(item_ids).id]
        missing = [i for i in item_ids if i not in self._position]
        if missing:
            raise BankError(f"bank {self.id!r} has no items {missing}")
        return np.array([self._position[i] for i in item_ids], dtype=np.intp)

    # ----------------------------------------------------------------- framework
    @property
    def framework(self) -> Any:
        """The framework the items are tagged with, loaded on first use through digicomp.framework."""
        if self._framework is None:
            ref = self.spec.framework
            if ref is None:
                raise BankError(f"bank {self.id!r} names no framework (a content-free bank)")
            try:
                from digicomp.framework import load_framework
            except ImportError:
                raise BankError(f"bank {self.id!r}: digicomp.framework is not available") from None
            self._framework = load_framework(ref.id)
        return self._framework

    @cached_property
    def areas(self) -> list[str]:
        """Area codes of the framework that hold at least one of the bank's competences, in framework order."""
        return self._area_lookup[0]

    @cached_property
    def area_index(self) -> NDArray[np.intp]:
        """Per item, its area's position in ``areas`` (-1 for items without a competence)."""
        comp_area = self._area_lookup[1]
        return np.append(comp_area, -1)[self.competence_index]

    @cached_property
    def _area_lookup(self) -> tuple[list[str], NDArray[np.intp]]:
        from digicomp.bank.frameworkview import area_codes, area_of

        try:
            owner = [area_of(self.framework, code) for code in self.competences]
        except DigicompError as exc:
            raise BankError(f"bank {self.id!r}: {exc}") from None
        areas = [code for code in area_codes(self.framework) if code in set(owner)]
        return areas, np.array([areas.index(a) for a in owner], dtype=np.intp)

    # ----------------------------------------------------------------- conversion
    def to_dict(self) -> dict[str, Any]:
        """The bank as plain data (what the YAML file holds), absent optional fields left out."""
        return self.spec.model_dump(mode="json", exclude_none=True)

    def to_yaml(self, path: str | PathLike[str]) -> None:
        """Write the bank as YAML, with its items' media files copied beside it (from :attr:`media_root`);
        ``load_bank`` of that file gives an equal bank (same fingerprint)."""
        from digicomp.io.yamlfile import dump_yaml

        _copy_media(self, Path(path).parent)
        dump_yaml(self.to_dict(), path)

    def to_param_table(self, path: str | PathLike[str], style: str = "mirt") -> None:
        """Write the parameters as CSV in ``mirt`` (a1, d, g, u / a1, d1..dk) or ``catR`` (a, b, c, d) columns.

        catR's table holds dichotomous items only: its polytomous items are left out with a ``DataWarning``
        naming them (a ``ParameterError`` when the bank has no dichotomous item).
        """
        from digicomp.io.param_table import write_param_table

        if self.mparams is not None:  # slope vectors: mirt's a1..aK table; catR's a, b, c, d is unidimensional
            from digicomp.bank.dimensions import param_table
            from digicomp.io.csvfile import write_csv

            if style != "mirt":
                raise BankError(
                    f"bank {self.id!r} is multidimensional: its table has mirt's columns a1..aK (style='mirt'), "
                    f"not {style}'s"
                )
            write_csv(path, *param_table(self.mparams))
            return
        params = self.params
        if style == "catR" and not params.is_dichotomous:
            import warnings

            from digicomp.errors import DataWarning, ParameterError
            from digicomp.models.parameters import DICHOTOMOUS_MODELS

            keep = [j for j, m in enumerate(params.models) if m in DICHOTOMOUS_MODELS]
            left = [params.ids[j] for j in range(params.n_items) if j not in set(keep)]
            if not keep:
                raise ParameterError(
                    f"bank {self.id!r}: catR's a, b, c, d table holds dichotomous items only, and "
                    "this bank has none; use style='mirt'"
                )
            shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
            warnings.warn(
                f"{path}: catR's a, b, c, d table holds dichotomous items only; {len(left)} polytomous items of "
                f"bank {self.id!r} left out ({shown}); style='mirt' writes them all",
                DataWarning,
                stacklevel=2,
            )
            params = params.subset(keep)
        write_param_table(params, path, style=style)

    @classmethod
    def from_params(
        cls,
        table_or_csv: Any,
        *,
        id: str = "parameters",
        version: str = "1",
        D: float = 1.0,
    ) -> ItemBank:
        """A content-free bank from a mirt/catR parameter table (CSV path or table), e.g. for simulation."""
        from digicomp.io.param_table import read_param_table

        params = read_param_table(table_or_csv, D=D)
        source = str(table_or_csv) if isinstance(table_or_csv, (str, PathLike)) else "parameter table"
        return cls.from_item_parameters(params, id=id, version=version, source=source)

    @classmethod
    def from_item_parameters(
        cls, params: ItemParameters, *, id: str = "parameters", version: str = "1", source: str = "ItemParameters"
    ) -> ItemBank:
        """A content-free bank holding ``params`` (calibration status ``imported`` from ``source``)."""
        items = [
            {
                "id": rec["id"],
                "model": rec["model"],
                "params": {k: v for k, v in rec.items() if k in ("a", "b", "c", "d") and v is not None},
                "calibration": {"status": "imported", "source": source},
            }
            for rec in params.to_file_form()
        ]
        data = {"kind": "item_bank", "id": id, "version": version, "scale": {"D": params.D}, "items": items}
        try:
            spec = BankFile.model_validate(data)
        except ValueError as exc:
            raise BankError(f"{source}: cannot build a bank from these parameters: {exc}") from None
        return cls(spec, params=params)


def _copy_media(bank: ItemBank, target: Path) -> None:
    """Copy ``bank``'s media files from its :attr:`~ItemBank.media_root` to folder ``target`` (same relative paths);
    a different file already at a path is a BankError, never overwritten."""
    import shutil

    source = bank.media_root
    media = [item.media.src for item in bank.spec.items if getattr(item, "media", None) is not None]
    if not media:
        return
    if source is None:
        raise BankError(
            f"bank {bank.id!r}: its items name media files ({media[0]}, ...) but the bank has no folder they come "
            "from (build it with media_root=)"
        )
    if source.resolve() == target.resolve():
        return
    for rel in dict.fromkeys(media):
        src, dst = source / rel, target / rel
        if dst.exists():
            if dst.read_bytes() != src.read_bytes():
                raise BankError(f"{dst}: a different file is already there; bank {bank.id!r} needs {src} at that path")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
