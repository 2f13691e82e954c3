"""observations: what actually happened — observed street and district figures for monitoring.

The plan asks the district to monitor the child population by district and street every year
and to apply the results (item 89). An *observations file* is a CSV with one observed figure
per row::

    year,street,indicator,value,sd,source,note
    2024,xinjing,births,412,,Changning Health Commission birth registrations 2024,
    2024,district,kindergarten_pupils,17850,300,Changning Education Bureau,autumn count

- ``year``: the calendar year the figure describes (within the model's horizon);
- ``street``: a street's id (``xinjing``), Chinese name (``新泾镇``) or English name
  (``Xinjing Town``), or ``district`` (``全区``) for the whole district;
- ``indicator``: one of :data:`INDICATORS` (the plan's wording is in each one's label);
- ``value``: the figure; leave it empty for a figure not (yet) available — the row is then
  kept as a reminder but not used;
- ``sd``: its uncertainty (same unit), optional — by default 5 % of the value (at least 1):
  registration delays, definitions and rounding;
- ``source``: where the figure comes from (required for every row with a value);
- ``note``: free text.

Lines starting with ``#`` are comments. :func:`read_observations` validates the whole file
before anything runs and raises :class:`ObservationsError` naming the file, line, column and
column name of the first problem.
"""

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "INDICATORS",
    "Indicator",
    "ObservationsError",
    "read_observations",
    "street_lookup",
    "write_template",
]

COLUMNS = ("year", "street", "indicator", "value", "sd", "source", "note")
REQUIRED = ("year", "street", "indicator", "value")
DISTRICT = "district"
DEFAULT_RELATIVE_SD = 0.05


@dataclass(frozen=True)
class Indicator:
    """An observable figure and how the model's outputs give it.

    Attributes
    ----------
    name : str
        The indicator's key in an observations file.
    label : str
        The plan's wording (English and Chinese).
    unit : str
    output : str
        The model output it is computed from.
    how : str
        In words: which months and labels of ``output`` make the figure.
    review : str
        What a planner should review when the figure leaves the projected range, with
        ``{y1}``-style placeholders for years after the observed one (``{y1}`` = year + 1).
    """

    name: str
    label: str
    unit: str
    output: str
    how: str
    review: str


def _indicators():
    rows = [
        Indicator("births", "Births (出生人口)", "children", "births",
                  "live births in the year (sum of the months)",
                  "nursery places in {y2}–{y3} and kindergarten places in {y3}–{y5}"),
        Indicator("children_0_2", "Children aged 0–2 (0–2岁儿童)", "children", "population",
                  "children aged 0–2 in completed years, in December",
                  "nursery places and baby rooms in {y1}–{y2}"),
        Indicator("children_3_5", "Children aged 3–5 (3–5岁儿童)", "children", "population",
                  "children aged 3–5 in completed years, in December",
                  "kindergarten places in {y1}–{y3}"),
        Indicator("children_6_11", "Children aged 6–11 (6–11岁儿童)", "children", "population",
                  "children aged 6–11 in completed years, in December",
                  "holiday classes (暑托班/寒托班) in {y1}–{y3}"),
        Indicator("children_0_17", "Children aged 0–17 (0–17岁儿童)", "children", "population",
                  "children aged 0–17 in completed years, in December",
                  "child-service plans for {y1}–{y5}"),
        Indicator("nursery_enrolled", "Children in full-day nursery care (在托婴幼儿)",
                  "children", "nursery_children_enrolled",
                  "children holding a full-day nursery place, in December",
                  "nursery demand assumptions and places for {y1}"),
        Indicator("nursery_waiting", "Children waiting for a nursery place (托育排队)",
                  "children", "nursery_children_waiting",
                  "children on a nursery waiting list, in December",
                  "nursery places for {y1}"),
        Indicator("kindergarten_pupils", "Kindergarten pupils (在园幼儿)", "children",
                  "kindergarten_children_enrolled",
                  "children holding a kindergarten place, in December",
                  "kindergarten places for {y1}"),
        Indicator("holiday_summer_pupils", "Summer holiday-class pupils (爱心暑托班学员)",
                  "children", "holiday_placed", "children placed in a summer class, in July",
                  "summer classes for {y1}"),
        Indicator("holiday_winter_pupils", "Winter holiday-class pupils (寒托班学员)",
                  "children", "holiday_placed", "children placed in a winter class, in January",
                  "winter classes for {y1}"),
        Indicator("clinic_visits", "Paediatric outpatient visits (儿科门诊人次)", "visits",
                  "clinic_visits",
                  "visits served in the year at the clinics located in the street (or all)",
                  "paediatric sessions for the winter of {y1}"),
    ]
    return {row.name: row for row in rows}


#: The indicators an observations file may hold, by key.
INDICATORS = _indicators()

#: Ages of the children_* indicators (completed years, inclusive).
CHILD_AGES = {
    "children_0_2": (0, 2),
    "children_3_5": (3, 5),
    "children_6_11": (6, 11),
    "children_0_17": (0, 17),
}


class ObservationsError(ValueError):
    """An observations file is not valid: nothing was run and no file was written.

    The message is ``FILE:LINE:COLUMN: column 'NAME': what is wrong`` (what ``childsim
    monitor`` prints after ``error:``); the place is also available as attributes.

    Attributes
    ----------
    file : str
    line, column : int
        1-based; 0 when the problem is the file as a whole.
    key : str
        The column name, or empty.

    Examples
    --------
    >>> import childsim, io
    >>> text = "year,street,indicator,value,source\\n2024,xinjing,births,4OO,register\\n"
    >>> try:
    ...     childsim.read_observations(io.StringIO(text), streets=["xinjing"])
    ... except childsim.ObservationsError as error:
    ...     print(error)
    <observations>:2:21: column 'value': expected a number, got '4OO'
    """

    def __init__(self, message, *, file="", line=0, column=0, key=""):
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.key = key


def street_lookup(streets, names_zh=(), names_en=()):
    """A dict from every accepted spelling of a street (lower case) to its id.

    Parameters
    ----------
    streets : sequence of str
        Street ids.
    names_zh, names_en : sequence of str, optional
        Chinese and English names, in the same order.

    Returns
    -------
    dict
        Includes ``district``, ``全区`` and ``长宁区`` for the district as a whole.

    Examples
    --------
    >>> lookup = street_lookup(["xinjing"], ["新泾镇"], ["Xinjing Town"])
    >>> lookup["xinjing town"], lookup["新泾镇"], lookup["全区"]
    ('xinjing', 'xinjing', 'district')
    """
    lookup = {DISTRICT: DISTRICT, "全区": DISTRICT, "长宁区": DISTRICT}
    for k, street in enumerate(streets):
        lookup[str(street).lower()] = str(street)
        for names in (names_zh, names_en):
            if k < len(names) and names[k]:
                name = str(names[k]).strip().lower()
                lookup[name] = str(street)
                # "Xinjing Town", "Huayanglu Road Subdistrict": also without the suffix
                for suffix in (" subdistrict", " town", " street"):
                    if name.endswith(suffix):
                        lookup[name[: -len(suffix)]] = str(street)
    return lookup


def _column_of(raw_line, field_index):
    """1-based column where field ``field_index`` starts in a CSV line (plain fields)."""
    column, field, quoted = 1, 0, False
    for k, ch in enumerate(raw_line):
        if field == field_index:
            return k + 1
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            field += 1
    return column if field_index == 0 else len(raw_line) + 1


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_observations(source, *, streets, names_zh=(), names_en=(), years=None):
    """Read and validate an observations file.

    Parameters
    ----------
    source : str, os.PathLike or text file object
        The CSV file (UTF-8; a byte-order mark is accepted).
    streets : sequence of str
        The model's street ids; names may also be given (``names_zh``, ``names_en``).
    names_zh, names_en : sequence of str, optional
        Street names accepted in the ``street`` column besides the ids.
    years : tuple of int, optional
        ``(first, last)`` calendar years the model covers; observations outside are an error.

    Returns
    -------
    pandas.DataFrame
        One row per line with a value: ``year`` (int), ``street`` (an id or ``district``),
        ``indicator``, ``value``, ``sd`` (filled with the default where empty), ``source``,
        ``note`` and ``line`` (the line in the file). Rows without a value are dropped.
        ``attrs["file"]`` is the file name and ``attrs["empty_rows"]`` the number of rows
        kept only as reminders (no value).

    Raises
    ------
    ObservationsError
        For the first problem, with file, line, column and column name.

    Examples
    --------
    >>> import io
    >>> text = ("year,street,indicator,value,sd,source,note\\n"
    ...         "# a comment\\n"
    ...         "2024,新泾镇,births,412,,registrations,\\n"
    ...         "2025,district,births,,,,not yet published\\n")
    >>> obs = read_observations(io.StringIO(text), streets=["xinjing"], names_zh=["新泾镇"])
    >>> obs[["year", "street", "indicator", "value", "sd"]].to_dict("records")
    [{'year': 2024, 'street': 'xinjing', 'indicator': 'births', 'value': 412.0, 'sd': 20.6}]
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = os.fspath(source)
        if not path.is_file():
            raise ObservationsError(f"{name}: no such file", file=name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            line = path.read_bytes()[: error.start].count(b"\n") + 1
            raise ObservationsError(
                f"{name}:{line}:1: the file is not UTF-8 text (save it as UTF-8; "
                f"spreadsheet programs call it 'CSV UTF-8')", file=name, line=line,
                column=1) from None
    else:
        name = getattr(source, "name", "<observations>")
        if not isinstance(name, str):
            name = "<observations>"
        text = source.read()
        if text.startswith("\ufeff"):
            text = text[1:]
    lookup = street_lookup(streets, names_zh, names_en)
    lines = text.splitlines()

    def fail(line, field_index, key, message):
        column = _column_of(lines[line - 1], field_index) if 0 < line <= len(lines) else 0
        where = f"{name}:{line}:{column}: column '{key}': " if key else f"{name}:{line}:{column}: "
        raise ObservationsError(where + message, file=name, line=line, column=column, key=key)

    content = [(k + 1, raw) for k, raw in enumerate(lines)
               if raw.strip() and not raw.lstrip().startswith("#")]
    if not content:
        raise ObservationsError(f"{name}: no header line (expected: {','.join(COLUMNS)})",
                                file=name)
    header_line, header_raw = content[0]
    header = [h.strip().lower() for h in next(csv.reader([header_raw]))]
    for k, column in enumerate(header):
        if column not in COLUMNS:
            fail(header_line, k, column,
                 f"unknown column (expected some of: {', '.join(COLUMNS)})")
        if header.index(column) != k:
            fail(header_line, k, column, "appears twice")
    for column in REQUIRED:
        if column not in header:
            raise ObservationsError(
                f"{name}:{header_line}:1: the header has no column '{column}' "
                f"(required: {', '.join(REQUIRED)})", file=name, line=header_line, column=1,
                key=column)
    index = {column: k for k, column in enumerate(header)}
    rows, empty, seen = [], 0, {}
    for line, raw in content[1:]:
        fields = next(csv.reader([raw]))
        if len(fields) > len(header):
            fail(line, len(header), "", f"{len(fields)} fields, the header has {len(header)}")
        fields += [""] * (len(header) - len(fields))
        get = {column: fields[k].strip() for column, k in index.items()}
        for column in REQUIRED:
            if column != "value" and not get[column]:
                fail(line, index[column], column, "is empty")
        year = _number(get["year"])
        if year is None or year != int(year):
            fail(line, index["year"], "year", f"expected a year such as 2025, got '{get['year']}'")
        year = int(year)
        if years is not None and not years[0] <= year <= years[1]:
            fail(line, index["year"], "year",
                 f"{year} is outside the model's years {years[0]}–{years[1]}")
        street = lookup.get(get["street"].lower())
        if street is None:
            fail(line, index["street"], "street",
                 f"unknown street '{get['street']}' (expected 'district' or one of: "
                 f"{', '.join(str(s) for s in streets)})")
        indicator = get["indicator"]
        if indicator not in INDICATORS:
            fail(line, index["indicator"], "indicator",
                 f"unknown indicator '{indicator}' (expected one of: "
                 f"{', '.join(INDICATORS)})")
        if not get["value"]:
            empty += 1
            continue
        value = _number(get["value"])
        if value is None:
            fail(line, index["value"], "value", f"expected a number, got '{get['value']}'")
        if value < 0:
            fail(line, index["value"], "value", f"must not be negative, got {get['value']}")
        sd_text = get.get("sd", "")
        if sd_text:
            sd = _number(sd_text)
            if sd is None or sd <= 0:
                fail(line, index["sd"], "sd", f"expected a positive number, got '{sd_text}'")
        else:
            sd = max(DEFAULT_RELATIVE_SD * value, 1.0)
        if not get.get("source", ""):
            fail(line, index.get("source", len(header)), "source",
                 "is empty: every observed figure needs its source")
        key = (year, street, indicator)
        if key in seen:
            fail(line, index["indicator"], "indicator",
                 f"{indicator} for {street} in {year} is already given on line {seen[key]}")
        seen[key] = line
        rows.append({"year": year, "street": street, "indicator": indicator, "value": value,
                     "sd": sd, "source": get.get("source", ""), "note": get.get("note", ""),
                     "line": line})
    frame = pd.DataFrame(rows, columns=["year", "street", "indicator", "value", "sd", "source",
                                        "note", "line"])
    frame = frame.astype({"year": "int64", "value": "float64", "sd": "float64",
                          "line": "int64"})
    frame.attrs["file"] = name
    frame.attrs["empty_rows"] = empty
    return frame


def write_template(path, *, streets, years=(2024, 2025), known=()):
    """Write an observations template: every indicator for the district and each street.

    Parameters
    ----------
    path : str or os.PathLike
    streets : sequence of str
        Street ids.
    years : sequence of int
    known : iterable of dict, optional
        Figures that exist (keys as the columns); they fill their rows.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_template(pathlib.Path(tmp) / "obs.csv", streets=["xinjing"],
    ...                          years=[2024])
    ...     obs = read_observations(out, streets=["xinjing"])
    >>> len(obs), obs.attrs["empty_rows"]
    (0, 22)
    """
    filled = {(int(k["year"]), k["street"], k["indicator"]): k for k in known}
    buffer = io.StringIO()
    buffer.write(
        "# childsim observations (docs/monitoring.md). Fill in 'value' (and 'sd' if known) and\n"
        "# 'source' for every figure you have; rows left empty are ignored. 'street' is a\n"
        "# street id, its Chinese or English name, or 'district'. Save as UTF-8 CSV.\n"
        f"# Indicators: {', '.join(INDICATORS)}.\n")
    if not filled:
        buffer.write("# No observed figure of this place was found when the template was made "
                     "(docs/data.md).\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for year in years:
        for street in [DISTRICT, *streets]:
            for indicator in INDICATORS:
                row = filled.get((int(year), street, indicator), {})
                writer.writerow([year, street, indicator, row.get("value", ""),
                                 row.get("sd", ""), row.get("source", ""),
                                 row.get("note", "")])
    path = Path(path)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
