"""The lessons as lectures: slides from the notebooks themselves, with speaker notes.

Every cell of a lesson carries ``metadata.slideshow.slide_type``:

    slide       starts a slide (the title, every ``##`` section)
    subslide    starts a slide below the previous one (a figure, a dashboard, a long part)
    fragment    appears on the same slide at the next key press (also what continues a slide:
                jupyterlab-slideshow shows no cell typed '-')
    skip        never projected (the imports)
    notes       speaker notes of the slide it belongs to: never projected

Code cells tagged ``plumbing`` (the calls that draw a figure) show only their output on a slide:
their input is hidden while presenting in JupyterLab (a per-cell style of jupyterlab-slideshow)
and removed from the static decks. Code without the tag (what the lesson teaches) stays visible.
A dashboard's picture keeps its size on a slide (another per-cell style), at most the slide's
height less its controls.

    python -m course.lecture check notebooks/*.ipynb      # the rules below, with cell numbers
    python -m course.lecture count notebooks/*.ipynb      # slides per lesson
    python -m course.lecture notes notebooks/04_optimizers.ipynb   # the notes, slide by slide
    python -m course.lecture style notebooks/*.ipynb      # add the presenting styles below
    python -m course.lecture slides notebooks/*.ipynb --out build/slides   # static decks
    python -m course.lecture slides --stored notebooks/*.ipynb   # ... without running the lessons
    python -m course.lecture lab notebooks/04_optimizers.ipynb     # JupyterLab, presenting

Rules (``check``): a lesson opens with a title slide; every ``##`` section, wherever it is in a
cell, starts a cell and a slide; every dashboard (a cell that displays a widget, not the quiz) has
a slide of its own and fits it; every slide has notes, and each note says what to say, what to
ask, the misconception to expect, the right answer and what to demo; plumbing code and the ``# NBVAL_...`` line are hidden while
presenting. ``reader_errors``: a learner reading the lesson sees each note collapsed and labelled
"for the lecturer" (``style`` does it).

``make lecture`` presents a copy of the lesson (build/lecture/): JupyterLab saves what it shows,
the live quiz included, and the lesson itself stays as it is. The address is printed once the
server answers; the lesson runs itself as the deck opens (course.server's deck helper), and a
presenter view with the notes follows the deck in a second window.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "lectures" / "vendor"

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes")
STARTS = ("slide", "subslide")
PLUMBING = "plumbing"
#: The four parts of a speaker note, each a bold label at the start of a line.
NOTE_PARTS = ("Say", "Ask", "Misconception", "Answer", "Demo")
FONTS_KEY = "@deathbeds/jupyterlab-fonts"
PRESENTING = "body[data-jp-deck-mode='presenting'] &"
#: The per-cell style that hides a plumbing cell's code while presenting (jupyterlab-slideshow).
HIDE_INPUT_STYLE = {"styles": {"": {f"{PRESENTING} .jp-Cell-inputWrapper": {"display": "none"}}}}
#: The per-cell style that fits a dashboard's picture in the slide while presenting: the widget
#: would stretch a picture narrower than the slide to its full width (a 616x418 picture became
#: 1115x756 px, taller than the screen); this keeps its own size, or less where the slide's
#: height (less the code line, the title and two rows of controls) runs out.
FIT_SELECTOR = f"{PRESENTING} .course-dashboard img"
FIT_RULES = {"width": "auto", "height": "auto", "max-width": "100%", "max-height": "calc(100vh - 250px)",
             "align-self": "center", "object-fit": "contain"}
#: The per-cell style that keeps a lesson's concept questions within the slide while presenting:
#: five questions are taller than a 720 px screen, so the list scrolls inside its slide.
QUIZ_SELECTOR = f"{PRESENTING} .course-quiz"
QUIZ_RULES = {"max-height": "calc(100vh - 230px)", "overflow-y": "auto"}
#: ... and keeps each question its full height (a flex column would squeeze the questions into
#: the box, cutting the number boxes in half and hiding the last choices, with nothing to scroll).
QUIZ_ROW_SELECTOR = f"{PRESENTING} .course-quiz > *"
QUIZ_ROW_RULES = {"flex-shrink": "0"}
#: nbval's marker comment, the first line of a code cell whose output the tests compare: not
#: projected (a per-cell style while presenting; removed from the static decks and the notes).
NBVAL_MARK = re.compile(r"^# NBVAL_\w+[ \t]*\n?")
NBVAL_SELECTOR = f"{PRESENTING} .jp-Cell-inputWrapper .cm-content > .cm-line:first-child"
NBVAL_RULES = {"display": "none"}
#: Speaker notes are for the lecturer: a learner reading the lesson sees each one collapsed
#: (``jupyter.source_hidden``), labelled, and opens it with a click.
NOTES_LABEL = "for the lecturer"
NOTES_STYLES = {
    "& .jp-InputPlaceholder .jp-PlaceholderText": {"display": "none"},
    "& .jp-InputPlaceholder .jp-Placeholder-contentContainer::before": {
        "content": f"'Speaker notes, {NOTES_LABEL}: click to open'", "font-style": "italic",
        "color": "var(--jp-ui-font-color2)", "padding-right": "0.5em"},
}
DASHBOARD_TEXT = "run this cell in Jupyter to use the controls"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def slide_type(cell) -> str | None:
    return (cell.get("metadata", {}).get("slideshow") or {}).get("slide_type")


def is_dashboard(cell) -> bool:
    """A code cell that displays a widget: a course dashboard (its stored picture says so) or
    any live widget view."""
    if cell.get("cell_type") != "code" or is_quiz(cell):
        return False       # a quiz saved while presenting stores a live view too: not a dashboard
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if WIDGET_VIEW in data or DASHBOARD_TEXT in "".join(data.get("text/plain", "")):
            return True
    return False


def is_plumbing(cell) -> bool:
    return PLUMBING in cell.get("metadata", {}).get("tags", [])


def hides_input(cell) -> bool:
    styles = cell.get("metadata", {}).get(FONTS_KEY, {}).get("styles", {}).get("", {})
    return any(PRESENTING in selector and "jp-Cell-inputWrapper" in selector
               and rules.get("display") == "none" for selector, rules in styles.items())


def fits_dashboard(cell) -> bool:
    styles = cell.get("metadata", {}).get(FONTS_KEY, {}).get("styles", {}).get("", {})
    return styles.get(FIT_SELECTOR) == FIT_RULES


def is_quiz(cell) -> bool:
    return cell.get("cell_type") == "code" and ("lesson_quiz(" in _source(cell) or "Quiz(" in _source(cell))


def _styles(cell) -> dict:
    return cell.get("metadata", {}).get(FONTS_KEY, {}).get("styles", {}).get("", {})


def fits_quiz(cell) -> bool:
    styles = _styles(cell)
    return styles.get(QUIZ_SELECTOR) == QUIZ_RULES and styles.get(QUIZ_ROW_SELECTOR) == QUIZ_ROW_RULES


def has_nbval_mark(cell) -> bool:
    return cell.get("cell_type") == "code" and bool(NBVAL_MARK.match(_source(cell)))


def hides_nbval_mark(cell) -> bool:
    return _styles(cell).get(NBVAL_SELECTOR) == NBVAL_RULES


def is_notes(cell) -> bool:
    return slide_type(cell) == "notes"


def notes_collapsed(cell) -> bool:
    """A notes cell a learner sees collapsed, labelled as the lecturer's."""
    return (cell.get("metadata", {}).get("jupyter", {}).get("source_hidden") is True
            and all(_styles(cell).get(k) == v for k, v in NOTES_STYLES.items()))


def collapse_notes(nb) -> int:
    """Collapse every notes cell for a reader and label it; returns how many cells changed."""
    changed = 0
    for cell in nb["cells"]:
        if is_notes(cell) and not notes_collapsed(cell):
            cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
            fonts = cell["metadata"].setdefault(FONTS_KEY, {})
            fonts.setdefault("styles", {}).setdefault("", {}).update(json.loads(json.dumps(NOTES_STYLES)))
            changed += 1
    return changed


def add_presenting_styles(nb) -> int:
    """Give plumbing cells the style that hides their code and dashboards the style that fits
    their picture in the slide (while presenting); returns how many cells changed."""
    changed = 0
    for cell in nb["cells"]:
        wanted = {}
        if is_plumbing(cell) and not hides_input(cell):
            wanted.update(HIDE_INPUT_STYLE["styles"][""])
        if is_dashboard(cell) and not fits_dashboard(cell):
            wanted[FIT_SELECTOR] = dict(FIT_RULES)
        if is_quiz(cell) and not fits_quiz(cell):
            wanted[QUIZ_SELECTOR] = dict(QUIZ_RULES)
            wanted[QUIZ_ROW_SELECTOR] = dict(QUIZ_ROW_RULES)
        if has_nbval_mark(cell) and not hides_nbval_mark(cell):
            wanted[NBVAL_SELECTOR] = dict(NBVAL_RULES)
        if wanted:
            fonts = cell.setdefault("metadata", {}).setdefault(FONTS_KEY, {})
            fonts.setdefault("styles", {}).setdefault("", {}).update(wanted)
            changed += 1
    return changed + collapse_notes(nb)


@dataclass
class Slide:
    """One slide of the deck: the cell that starts it, the cells it shows, its notes."""

    start: int
    kind: str
    shown: list[int] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)
    title: str = ""


def slides(nb) -> list[Slide]:
    """The deck a notebook makes, in order (cells before the first slide are not on any)."""
    deck: list[Slide] = []
    for i, cell in enumerate(nb["cells"]):
        kind = slide_type(cell)
        if kind in STARTS:
            first = NBVAL_MARK.sub("", _source(cell).strip()).strip().splitlines()
            deck.append(Slide(i, kind, [i], [], first[0][:80] if first else ""))
        elif deck and kind == "notes":
            deck[-1].notes.append(i)
        elif deck and kind in ("-", "fragment", None):
            deck[-1].shown.append(i)
    return deck


def count(nb) -> int:
    """Slides in the deck (slides and subslides: each is one screen)."""
    return len(slides(nb))


def check(nb, name: str = "notebook") -> list[str]:
    """Every broken rule, as 'name: cell N: what is wrong' (cells counted from 0, as JupyterLab's
    'cell index' and nbformat do)."""
    cells = nb["cells"]
    errors = []
    for i, cell in enumerate(cells):
        kind = slide_type(cell)
        if kind is None:
            errors.append(f"{name}: cell {i}: no slideshow.slide_type (one of {', '.join(SLIDE_TYPES)})")
        elif kind == "-":
            errors.append(f"{name}: cell {i}: slide_type '-' is not shown by jupyterlab-slideshow: use 'fragment'")
        elif kind not in SLIDE_TYPES:
            errors.append(f"{name}: cell {i}: unknown slide_type {kind!r}")
    if not cells:
        return [f"{name}: the notebook has no cells"]
    first = cells[0]
    if not (first.get("cell_type") == "markdown" and _source(first).lstrip().startswith("# ")
            and slide_type(first) == "slide"):
        errors.append(f"{name}: cell 0: a lesson opens with a title slide (a '# ' heading, slide_type 'slide')")
    deck = slides(nb)
    owner = {}
    for s in deck:
        for i in s.shown + s.notes:
            owner[i] = s
    for i, cell in enumerate(cells):
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            for heading in re.finditer(r"^##\s.*$", text, re.M):
                if text[:heading.start()].strip():
                    errors.append(f"{name}: cell {i}: the section {heading.group().strip()!r} is inside the cell, "
                                  "under other text: split the cell so that the section's cell starts with it")
                elif slide_type(cell) != "slide":
                    errors.append(f"{name}: cell {i}: the section {heading.group().strip()!r} must start a slide "
                                  f"(slide_type 'slide', not {slide_type(cell)!r})")
        if has_nbval_mark(cell) and not hides_nbval_mark(cell):
            errors.append(f"{name}: cell {i}: the '# NBVAL_...' line without the style that hides it while "
                          f"presenting (metadata[{FONTS_KEY!r}]; python -m course.lecture style)")
        if is_dashboard(cell):
            s = owner.get(i)
            if slide_type(cell) not in STARTS:
                errors.append(f"{name}: cell {i}: a dashboard has a slide of its own: make it start one "
                              "(slide_type 'slide' or 'subslide')")
            elif not fits_dashboard(cell):
                errors.append(f"{name}: cell {i}: a dashboard without the style that fits its picture in the "
                              f"slide while presenting (metadata[{FONTS_KEY!r}]; python -m course.lecture style)")
            elif s and len(s.shown) > 1:
                errors.append(f"{name}: cell {i}: the dashboard shares its slide with cells "
                              f"{[j for j in s.shown if j != i]}: give them a slide of their own")
        if is_quiz(cell) and not fits_quiz(cell):
            errors.append(f"{name}: cell {i}: concept questions without the style that keeps them within "
                          f"the slide while presenting (metadata[{FONTS_KEY!r}]; python -m course.lecture style)")
        if is_plumbing(cell) and not hides_input(cell):
            errors.append(f"{name}: cell {i}: plumbing code without the style that hides it while presenting "
                          f"(metadata[{FONTS_KEY!r}])")
        if slide_type(cell) == "notes":
            if cell.get("cell_type") != "markdown":
                errors.append(f"{name}: cell {i}: notes are markdown cells")
            missing = [p for p in NOTE_PARTS if not re.search(rf"^\*\*{p}[.:]?\*\*", text, re.M)]
            if missing:
                errors.append(f"{name}: cell {i}: the note lacks {', '.join('**' + p + '**' for p in missing)} "
                              f"(each note: {', '.join(NOTE_PARTS)})")
    for s in deck:
        if not s.notes:
            errors.append(f"{name}: cell {s.start}: the slide {s.title!r} has no notes (a markdown cell with "
                          "slide_type 'notes' before the next slide)")
    for i, cell in enumerate(cells):
        if slide_type(cell) == "notes" and i not in owner:
            errors.append(f"{name}: cell {i}: notes before the first slide")
    return errors


#: In a lecture plan: at least this many minutes for each slide a cut shows.
MINUTES_PER_SLIDE = 0.5


def _plan_rows(text: str) -> list[tuple[str, list[int]]]:
    """The rows of a plan's minutes table: (section label, [minutes per column]), the total last."""
    rows, in_table = [], False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 3:
            in_table = False
            continue
        if set("".join(cells)) <= set("-: "):      # the line under the header: the rows follow
            in_table = True
            continue
        if not in_table:
            continue
        numbers = [re.match(r"\**(\d+)", c) for c in cells[1:]]
        if all(numbers):
            rows.append((cells[0].strip("* "), [int(m.group(1)) for m in numbers]))
    return rows


def _skipped_slides(text: str) -> list[int]:
    """The slide numbers the 50-minute cut skips ("skips slides 6 (...), 19-20 (...) and 32-35")."""
    found = re.search(r"50-minute cut skips slides?(.*)", text, re.S)
    if not found:
        return []
    words = re.split(r":|;|, and |\.\s", re.sub(r"\([^)]*\)", "", found.group(1)), maxsplit=1)[0]
    slides_named = []
    for first, last in re.findall(r"(\d+)(?:\s*(?:-|–|to)\s*(\d+))?", words):
        slides_named.extend(range(int(first), int(last or first) + 1))
    return slides_named


def _sections_in(nb, s: Slide, current: str) -> list[str]:
    """The sections a slide belongs to: the one it starts in, and each whose heading it shows."""
    found = [current]
    for i in s.shown:
        cell = nb["cells"][i]
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            if i == s.start and s.kind == "slide" and line.startswith("# "):
                found.append("Title")
            heading = re.match(r"##\s+(\d+)\.", line) or re.match(r"##\s+(Summary)\b", line)
            if heading:
                found.append(heading.group(1))
    return [k for k in dict.fromkeys(found) if k] if len(found) == 1 else list(dict.fromkeys(found[1:]))


def _row_sections(label: str) -> set[str]:
    numbered = re.match(r"(\d+)(?:\s*-\s*(\d+))?\.", label)
    if numbered:
        return {str(k) for k in range(int(numbered.group(1)), int(numbered.group(2) or numbered.group(1)) + 1)}
    if label.lower().startswith("title"):
        return {"Title"}
    if label.lower().startswith("summary"):
        return {"Summary"}
    return set()


def check_plan(plan_text: str, nb, name: str = "plan") -> list[str]:
    """Every broken rule of a lecture plan against its lesson's deck.

    The minutes of each column add up to the total row; every slide the 50-minute cut names
    exists; a section whose slides the cut all skips gets no minutes in it; every row of the
    table names sections of the deck, and every section has a row; each row gives at least
    ``MINUTES_PER_SLIDE`` minutes to each slide it shows.
    """
    errors = []
    deck = slides(nb)
    rows = _plan_rows(plan_text)
    if len(rows) < 2:
        return [f"{name}: no minutes table (| section | 50 minutes | 90 minutes |, a total row last)"]
    *sections, (_, totals) = rows
    for column, total in enumerate(totals):
        given = sum(minutes[column] for _, minutes in sections)
        if given != total:
            errors.append(f"{name}: the minutes of column {column + 1} add up to {given}, not {total}")
    skipped = _skipped_slides(plan_text)
    for number in skipped:
        if not 1 <= number <= len(deck):
            errors.append(f"{name}: the 50-minute cut skips slide {number}, but the deck has {len(deck)} slides")
    section_slides: dict[str, list[int]] = {}
    current = ""
    for number, s in enumerate(deck, start=1):
        inside = _sections_in(nb, s, current)
        if s.kind != "slide" and current and current not in inside:
            inside.insert(0, current)        # a subslide continues its section before a new heading
        for section in inside:
            section_slides.setdefault(section, []).append(number)
        current = inside[-1] if inside else current
    covered = set()
    for label, minutes in sections:
        wanted = _row_sections(label)
        missing = wanted - set(section_slides)
        if not wanted or missing:
            errors.append(f"{name}: the row {label!r} names no section of the deck"
                          + (f" (no section {sorted(missing)})" if missing else ""))
            continue
        covered |= wanted
        numbers = [k for section in sorted(wanted) for k in section_slides[section]]
        for column, minutes_here in enumerate(minutes):
            shown = [k for k in numbers if column > 0 or k not in skipped]
            if not shown and minutes_here:
                errors.append(f"{name}: the row {label!r} gets {minutes_here} minutes in column {column + 1}, "
                              f"but the cut skips all its slides {numbers}")
            elif minutes_here < MINUTES_PER_SLIDE * len(shown):
                errors.append(f"{name}: the row {label!r} gets {minutes_here} minutes in column {column + 1} "
                              f"for {len(shown)} slides: at least {MINUTES_PER_SLIDE * len(shown):g}")
    for section in sorted(set(section_slides) - covered - {""}):
        errors.append(f"{name}: section {section!r} (slides {section_slides[section]}) has no row in the table")
    return errors


def reader_errors(nb, name: str = "notebook") -> list[str]:
    """What a learner reading the lesson would trip on: notes not collapsed and labelled. (Not part
    of ``check``: presenting opens the notes, and a notebook saved while presenting must still
    present.)"""
    return [f"{name}: cell {i}: notes not collapsed for a reader (metadata.jupyter.source_hidden and the "
            f"label {NOTES_LABEL!r}; python -m course.lecture style)"
            for i, cell in enumerate(nb["cells"]) if is_notes(cell) and not notes_collapsed(cell)]


def notes_text(nb, name: str = "") -> str:
    """The speaker notes of a lesson, slide by slide: a sheet for the lectern or a second screen."""
    out = [f"# Speaker notes: {name}".rstrip(": ")]
    for number, s in enumerate(slides(nb), start=1):
        out.append(f"\n## Slide {number} (cell {s.start}, {s.kind}): {s.title}\n")
        out.extend(NBVAL_MARK.sub("", _source(nb["cells"][i])).strip() + "\n" for i in s.notes)
    return "\n".join(out)


# --- static decks --------------------------------------------------------------------------------
#: The look the static decks' pictures are drawn in, recorded in each executed copy's metadata.
DECK_KEY = "course_deck"


def _deck_key(path: Path) -> str:
    """What a deck's pictures depend on: the lesson and the library that draws them."""
    import hashlib

    digest = hashlib.sha256(Path(path).read_bytes())
    for source in sorted((ROOT / "course").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def projector_copy(path: Path, cache: Path, timeout: int = 900):
    """``path`` executed top to bottom with the projector look (COURSE_PRESENTATION=1), as an
    nbformat notebook: the pictures a room sees, not the learner-size ones stored in the lesson.
    The lesson itself is not written; the executed copy is kept in ``cache`` and used again while
    neither the lesson nor the library changes."""
    import nbformat
    from nbclient import NotebookClient

    from course._notebooks import clean

    key = _deck_key(path)
    cached = cache / Path(path).name
    if cached.exists():
        nb = nbformat.read(cached, as_version=4)
        if nb.metadata.get(DECK_KEY, {}).get("key") == key:
            return nb
    nb = nbformat.read(path, as_version=4)
    before = os.environ.get("COURSE_PRESENTATION")
    os.environ["COURSE_PRESENTATION"] = "1"      # the kernel inherits it: figures in the projector look
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(Path(path).resolve().parent)}}).execute()
    except Exception as error:  # noqa: BLE001 - said with the lesson's name and the way out
        last = (str(error).strip().splitlines() or [""])[-1]
        raise RuntimeError(f"{Path(path).name}: running the lesson with the projector look failed "
                           f"({type(error).__name__}: {last}). Fix what failed (COURSE_DATA_DIR for "
                           "MNIST?), or build the decks from the pictures stored in the lessons "
                           "(a learner's size): python -m course.lecture slides --stored ...") from error
    finally:
        if before is None:
            os.environ.pop("COURSE_PRESENTATION", None)
        else:
            os.environ["COURSE_PRESENTATION"] = before
    from course.plots.style import PROJECTOR_RC

    clean(nb)
    nb.metadata[DECK_KEY] = {"look": "projector", "dpi": PROJECTOR_RC["figure.dpi"], "key": key}
    cache.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    return nb


def build_slides(paths: list[Path], out: Path, projector: bool = True) -> list[Path]:
    """One reveal.js deck per lesson in ``out``, loading everything from ``out/vendor`` (copied
    from lectures/vendor): no request leaves the folder. Plumbing code is removed (its figure
    stays), dashboards appear as their pictures, notes go to the speaker view (key s).

    ``projector`` (the default): the pictures are drawn for the room, as ``make lecture`` draws
    them (each lesson runs once with COURSE_PRESENTATION=1; the run is kept in ``out/projector``
    and reused until the lesson or the library changes). Otherwise the decks show the pictures
    stored in the lessons, drawn for a learner's screen."""
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    out.mkdir(parents=True, exist_ok=True)
    if (out / "vendor").exists():
        shutil.rmtree(out / "vendor")
    shutil.copytree(VENDOR, out / "vendor", ignore=shutil.ignore_patterns("package.json", "README.md"))
    config = Config()
    config.SlidesExporter.reveal_url_prefix = "vendor/reveal.js"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "720"
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.require_js_url = "vendor/require.js"
    config.SlidesExporter.jquery_url = "vendor/jquery.min.js"
    config.SlidesExporter.widget_renderer_url = "vendor/html-manager/embed-amd.js"
    config.SlidesExporter.mathjax_url = MATHJAX
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.remove_input_tags = {PLUMBING}
    config.TagRemovePreprocessor.enabled = True
    exporter = SlidesExporter(config=config)
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    written = []
    for path in paths:
        import nbformat

        nb = projector_copy(path, out / "projector") if projector else nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if has_nbval_mark(cell):
                cell.source = NBVAL_MARK.sub("", cell.source)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        # no diagram in the lessons: drop the mermaid loader, which would reach for a CDN
        body = re.sub(r'<script type="module">\s*import mermaid from [^<]*</script>', "", body)
        # MathJax 3 (the template is written for MathJax 2): its settings go before it loads
        body = body.replace(f'<script src="{MATHJAX}">', MATHJAX_CONFIG + f'<script src="{MATHJAX}">', 1)
        look = "projector" if projector else "learner"
        body = body.replace("</head>", f'<meta name="course-figures" content="{look}">\n' + DECK_CSS + "</head>", 1)
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written


#: MathJax 3, TeX to SVG, served with the deck: formulas need neither the network nor a font file.
MATHJAX = "vendor/mathjax/tex-svg.js"
#: Its settings: the lessons' $...$ and $$...$$. The template (written for MathJax 2) calls
#: ``MathJax.Hub`` on every slide change: a stand-in answers (MathJax 3 typesets the whole deck
#: once, hidden slides included).
MATHJAX_CONFIG = """<script>window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'global'},
  startup: {ready: function () {
    MathJax.startup.defaultReady();
    MathJax.Hub = {getAllJax: function () { return null; }, Rerender: function () {}, Queue: function () {}};
  }}
};</script>
"""

#: Fit a figure in the slide's height: at most 620 px, the height the projector look is drawn for
#: (benchmarks/figure_text_sizes.py, SLIDE_HEIGHT).
DECK_CSS = """<style>
.reveal .jp-OutputArea-output img { max-height: 620px; width: auto; max-width: 100%; }
.reveal .jp-RenderedImage { text-align: center; }
.reveal section { font-size: 0.72em; }
</style>
"""


# --- presenting in JupyterLab --------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The learner's and the lecturer's JupyterLab (``make lab``, ``make lecture``): Jupyter's
#: configuration folder that switches off what is not theirs (nbgrader's menus and server
#: extensions, the "Jupyter news?" pop-up); an instructor's ``jupyter lab`` keeps them.
LEARNER_CONFIG = ROOT / "jupyter-config" / "learner"


def learner_environment(env: dict | None = None) -> dict:
    """``env`` (os.environ by default) with LEARNER_CONFIG first on JUPYTER_CONFIG_PATH."""
    env = dict(os.environ if env is None else env)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(LEARNER_CONFIG), *([rest] if rest else [])])
    return env


def lab_command(lesson: Path, settings: Path, port: int, token: str, open_browser: bool,
                root: Path = ROOT) -> list[str]:
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            # the deck's helper (course.server) drives the open lesson through the page's app
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}", f"--ServerApp.open_browser={open_browser}",
            f"--LabApp.default_url=/lab/tree/{lesson.resolve().relative_to(root).as_posix()}",
            # nothing pops up in front of the room: no news, no update check
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # a classroom machine or a container where the instructor is root: Jupyter refuses
            # to start as root without this
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])]


def prepare_settings(folder: Path, presenting: bool = True) -> Path:
    """JupyterLab settings for a lecture: the deck (jupyterlab-slideshow) is on when the lesson
    opens, the code cells' prompts hidden."""
    target = folder / "jupyterlab-slideshow"
    target.mkdir(parents=True, exist_ok=True)
    (target / "plugin.jupyterlab-settings").write_text(json.dumps({"active": presenting}))
    return folder


START_MESSAGE = """
  {lesson} opens presenting: JupyterLab shows a copy of it as a deck (jupyterlab-slideshow),
  {copy}: what presenting saves stays there, and {lesson} is left as it is.

    {url}

  The lesson runs itself as the deck opens (the dashboards come alive; the figures are drawn
  for the projector, COURSE_PRESENTATION=1); the deck stays on the slide you are on. Run it
  again: Ctrl+Shift+C (the command palette), "Run All Cells".
  Next / previous slide: Space / Shift+Space, or the arrows at the bottom right.
  Leave or start the deck: the deck button in the notebook's toolbar (command "Toggle Deck").
  Presenter view (the notes of the slide on screen, following the deck; keep it off the
  projector, in a second window of the same browser):

    {presenter}

  Speaker notes on paper: python -m course.lecture notes {lesson}  (or the static deck's key s).
  Stop: Ctrl+C here.
"""

#: Where ``make lecture`` puts the copy it presents.
LECTURE_DIR = ROOT / "build" / "lecture"


def presenting_copy(lesson: Path, folder: Path = LECTURE_DIR) -> Path:
    """A fresh copy of ``lesson`` in ``folder`` to present: JupyterLab saves the notebook it shows
    (the live quiz, the figures' sizes, timings), and the lesson itself must stay as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / lesson.name
    shutil.copyfile(lesson, target)
    return target


def wait_until_answering(port: int, process: subprocess.Popen, timeout: float = 120) -> bool:
    """Wait until the server on ``port`` answers HTTP (True), or ``process`` stops (False)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def lab(lesson: Path, open_browser: bool = True, folder: Path = LECTURE_DIR) -> int:
    """Start JupyterLab on a copy of ``lesson`` in ``folder``, presenting, with the projector look
    for figures; print its address once the server answers."""
    settings = prepare_settings(folder / "settings")
    copy = presenting_copy(lesson, folder)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**learner_environment(), "COURSE_PRESENTATION": "1", "COURSE_LECTURE": "1"}
    root = ROOT if copy.resolve().is_relative_to(ROOT) else copy.resolve().parent
    relative = copy.resolve().relative_to(root).as_posix()
    url = f"http://127.0.0.1:{port}/lab/tree/{relative}?token={token}"
    presenter = f"http://127.0.0.1:{port}/course/presenter/{relative}?token={token}"
    process = subprocess.Popen(lab_command(copy, settings, port, token, open_browser, root), cwd=root, env=env)
    try:
        if wait_until_answering(port, process):
            print(START_MESSAGE.format(lesson=lesson.as_posix(), copy=relative,
                                       url=url, presenter=presenter), flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()


# --- command line --------------------------------------------------------------------------------
def _load(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.lecture", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "count", "notes"):
        p = sub.add_parser(name)
        p.add_argument("notebooks", nargs="+", type=Path)
    p = sub.add_parser("style")
    p.add_argument("notebooks", nargs="+", type=Path)
    p = sub.add_parser("slides")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    p.add_argument("--stored", action="store_true",
                   help="show the pictures stored in the lessons (a learner's size) instead of running each "
                        "lesson once with the projector look")
    p = sub.add_parser("lab")
    p.add_argument("notebook", type=Path)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--copy-to", type=Path, default=LECTURE_DIR,
                   help=f"where to put the copy presented (default: {LECTURE_DIR}); inside the course folder")
    args = parser.parse_args(argv)
    if args.command == "check":
        errors = [e for path in args.notebooks for e in check(_load(path), path.name)]
        for path in args.notebooks:
            plan = ROOT / "lectures" / f"{path.stem}.md"
            if plan.exists():
                errors += check_plan(plan.read_text(encoding="utf-8"), _load(path), plan.name)
        for error in errors:
            print(error)
        total = sum(count(_load(path)) for path in args.notebooks)
        print(f"{len(args.notebooks)} lesson(s), {total} slides: "
              + ("ready to present" if not errors else f"{len(errors)} problem(s)"))
        return 1 if errors else 0
    if args.command == "count":
        for path in args.notebooks:
            nb = _load(path)
            print(f"{path.name}: {count(nb)} slides ({sum(s.kind == 'slide' for s in slides(nb))} sections)")
        return 0
    if args.command == "notes":
        for path in args.notebooks:
            print(notes_text(_load(path), path.name))
        return 0
    if args.command == "style":
        for path in args.notebooks:
            nb = _load(path)
            changed = add_presenting_styles(nb)
            if changed:
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{path.name}: {changed} cell(s) styled")
        return 0
    if args.command == "slides":
        try:
            written = build_slides(args.notebooks, args.out, projector=not args.stored)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        for target in written:
            print(f"{target}: {target.stat().st_size // 1024} KB")
        return 0
    if args.command == "lab":
        return lab(args.notebook, open_browser=not args.no_browser, folder=args.copy_to.resolve())
    return 2


if __name__ == "__main__":
    sys.exit(main())
