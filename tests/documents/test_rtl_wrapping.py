"""Right-to-left paragraphs long enough to wrap: wrapped in logical order, each line then put in
display order, so the first words print on the top line at the right margin and the last words
on the bottom line, with English names and digits inside still reading left to right.

Read back with poppler's `pdftotext -bbox`: each word's box, and its glyphs in the order they
are drawn (a right-to-left word comes out reversed, in Arabic presentation forms, so it is
reversed back before NFKC maps the forms to letters)."""

from __future__ import annotations

import unicodedata

from portal.documents.fonts import Paragraph
from portal.documents.notices import NOTICE_OF_DEFAULT, render_notice
from portal.documents.pdf_layout import PartyBlock, build_pdf, paragraph_styles
from tests.rendering.pdf_text import Word, page_count, words

ARABIC = (
    "بدأت الوكالة الشريكة برنامج التدريب السنوي في شهر يناير وأكملت جميع الوحدات المطلوبة قبل "
    "نهاية الربع الأول من السنة، ثم راجعت إدارة البيانات سجلات العملاء للتأكد من دقة المعلومات "
    "وسلامتها، وقدمت تقريرا مفصلا إلى الوكالة الرئيسية يشرح الخطوات التي اتخذتها لتصحيح الأخطاء "
    "ومنع تكرارها في المستقبل، وتلتزم الوكالة بمواصلة العمل وفق أحكام الاتفاقية حتى انتهائها"
)
HEBREW = (
    "הסוכנות השותפה התחילה את תוכנית ההדרכה השנתית בחודש ינואר והשלימה את כל היחידות הנדרשות "
    "לפני סוף הרבעון הראשון של השנה, ולאחר מכן בדקה מנהלת הנתונים את רשומות הלקוחות כדי לוודא "
    "את דיוק המידע ושלמותו, והגישה דוח מפורט לסוכנות המובילה המסביר את הצעדים שננקטו לתיקון "
    "הטעויות ולמניעת הישנותן בעתיד, והסוכנות מתחייבת להמשיך לפעול לפי הוראות ההסכם עד לסיומו"
)
# An Arabic sentence with an English name and a number inside, wrapping onto a second line.
MIXED = (
    "وقعت Maria Delgado على الاتفاقية رقم 2026 في اليوم الثاني من ديسمبر بعد مراجعة جميع "
    "الشروط مع مدير البرنامج، ووافقت الوكالة على تقديم التقارير الشهرية في موعدها المحدد"
)
# The other way round: an English paragraph with an Arabic name and a Hebrew phrase inside.
ENGLISH = (
    "The partner agency named مريم الحسيني as its security officer on the second of December, "
    "after its board reviewed the terms of the agreement with the program manager, and the "
    "agency agreed to send its monthly reports marked דוח חודשי on the dates the lead sets."
)
RIGHT_MARGIN = 612 - 72 - 6  # letter width, less the 1-inch margin and the frame's padding


def _rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _logical(word: Word) -> str:
    """A word as typed: a right-to-left one comes out of pdftotext in drawing order."""
    text = word.text[::-1] if _rtl(word.text) else word.text
    return unicodedata.normalize("NFKC", text)


def _lines(found: list[Word]) -> list[list[Word]]:
    """Words grouped into lines, top to bottom (Latin and Arabic boxes differ by a few pt)."""
    lines: list[list[Word]] = []
    for word in sorted(found, key=lambda w: w.y_min):
        if lines and word.y_min - lines[-1][0].y_min < 6:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _reading(line: list[Word], rtl: bool) -> list[str]:
    """A line's words in reading order: by the base direction, with each run of words of the
    other direction read its own way."""
    ordered = sorted(line, key=lambda w: -w.x_min if rtl else w.x_min)
    out: list[str] = []
    run: list[str] = []
    for word in ordered:
        if _rtl(word.text) != rtl:
            run.append(_logical(word))
            continue
        out += run[::-1] + [_logical(word)]
        run = []
    return out + run[::-1]


def _paragraph_lines(pdf: bytes, page: int, first: str, last: str) -> list[list[Word]]:
    """The lines of the page from the one holding `first` to the one holding `last`."""
    lines = _lines(words(pdf, page))
    texts = [[_logical(w) for w in line] for line in lines]
    start = min(i for i, line in enumerate(texts) if first in line)
    end = max(i for i, line in enumerate(texts) if last in line)
    assert start <= end, f"{first!r} prints on line {start}, below {last!r} on line {end}"
    return lines[start : end + 1]


def _notice(paragraphs: list[str]) -> bytes:
    return render_notice(
        kind="default_notice",
        title=NOTICE_OF_DEFAULT,
        reference="ND-0001",
        agreement_reference="PAA-0001-01",
        from_party="Sacramento Steps Forward",
        to_party="مريم الحسيني",
        to_address="1234 K Street",
        given_on="December 2, 2026",
        paragraphs=paragraphs,
        signer=PartyBlock("issuer_signature", "HMIS LEAD AGENCY", "", "", "Sacramento"),
    ).pdf


def _check_reads_in_order(lines: list[list[Word]], text: str, rtl: bool) -> None:
    assert len(lines) >= 3, f"the paragraph should wrap onto several lines: {len(lines)}"
    read = [_reading(line, rtl) for line in lines]
    expected = text.split()
    # The first words on the top line, the last words on the bottom line...
    assert read[0][:3] == expected[:3], read[0]
    assert read[-1][-3:] == expected[-3:], read[-1]
    # ...and every word in between in order.
    assert [w for line in read for w in line] == expected


def test_a_long_arabic_paragraph_reads_from_the_top_line_down():
    pdf = _notice([ARABIC])
    lines = _paragraph_lines(pdf, 0, "بدأت", "انتهائها")
    _check_reads_in_order(lines, ARABIC, rtl=True)
    # Right-aligned: every line ends at the right margin, its first word there.
    for line in lines:
        rightmost = max(line, key=lambda w: w.x_max)
        assert abs(rightmost.x_max - RIGHT_MARGIN) < 1.5, rightmost
    assert _logical(max(lines[0], key=lambda w: w.x_max)) == "بدأت"


def test_a_long_hebrew_paragraph_reads_from_the_top_line_down():
    pdf = _notice([HEBREW])
    lines = _paragraph_lines(pdf, 0, "הסוכנות", "לסיומו")
    _check_reads_in_order(lines, HEBREW, rtl=True)
    assert all(abs(max(w.x_max for w in line) - RIGHT_MARGIN) < 1.5 for line in lines)


def test_english_names_and_digits_inside_arabic_read_left_to_right():
    pdf = _notice([MIXED])
    lines = _paragraph_lines(pdf, 0, "وقعت", "المحدد")
    assert len(lines) == 2
    assert [w for line in lines for w in _reading(line, rtl=True)] == MIXED.split()
    top = {_logical(w): w for w in lines[0]}
    # "وقعت" at the right, then to its left "Maria Delgado" left to right, then "على".
    assert top["على"].x_max < top["Maria"].x_min < top["Delgado"].x_min < top["وقعت"].x_min
    # The number keeps its digits' order, between the words around it.
    assert "2026" in top and "6202" not in top
    assert top["في"].x_max < top["2026"].x_min < top["رقم"].x_min


def test_an_english_paragraph_with_arabic_and_hebrew_inside_stays_left_to_right():
    pdf = _notice([ENGLISH])
    lines = _paragraph_lines(pdf, 0, "The", "sets.")
    _check_reads_in_order(lines, ENGLISH, rtl=False)
    top = {_logical(w): w for w in lines[0]}
    # The Arabic name reads right to left: its first word to the right of its second.
    assert top["named"].x_max < top["الحسيني"].x_min < top["مريم"].x_min < top["as"].x_min


def test_a_right_to_left_paragraph_split_across_pages_keeps_its_order():
    text = " ".join([ARABIC] * 12)
    pdf = _notice([text])
    assert page_count(pdf) >= 2
    top = _paragraph_lines(pdf, 0, "بدأت", "بدأت")[0][0].y_min  # below the "To" name
    lines = _lines([w for w in words(pdf, 0) if w.y_min >= top - 3 and _rtl(w.text)])
    lines += _lines([w for w in words(pdf, 1) if _rtl(w.text)])
    assert [w for line in lines for w in _reading(line, rtl=True)] == text.split()


def test_styled_runs_and_brackets_inside_a_wrapped_arabic_paragraph():
    """Bold words and Latin brackets are fragments of their own; each line is reordered
    across them, and a bracket in a right-to-left run is drawn mirrored."""
    markup = (
        "بدأت الوكالة <b>الشريكة برنامج التدريب</b> السنوي (في شهر يناير) وأكملت جميع الوحدات "
        "المطلوبة قبل نهاية الربع الأول من السنة، ثم راجعت إدارة البيانات <b>سجلات العملاء "
        "للتأكد من دقة المعلومات وسلامتها</b>، وقدمت تقريرا مفصلا إلى الوكالة الرئيسية"
    )
    pdf = build_pdf(
        [Paragraph(markup, paragraph_styles()["body"])],
        footer_prefix="Test",
        title="Test",
        subject="Test",
        author="Test",
    )
    plain = markup.replace("<b>", "").replace("</b>", "")
    lines = [line for line in _lines(words(pdf, 0)) if any(_rtl(w.text) for w in line)]
    read = [w for line in lines for w in _reading(line, rtl=True)]
    # pdftotext gives the brackets as drawn: mirrored, then reversed back with their word.
    assert read == plain.replace("(", "\0").replace(")", "(").replace("\0", ")").split()
    assert len(lines) >= 2
