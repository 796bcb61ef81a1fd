from textwrap import dedent

import pytest

from portal.documents.template_markup import (
    PLACEHOLDERS,
    BulletList,
    Paragraph,
    TemplateError,
    parse_template,
)
from portal.documents.template_text import (
    fill,
    load_sample_template,
    pdf_markup,
    plain_text,
    sections,
    to_plain_text,
)

GOOD = dedent(
    """\
    An opening paragraph
    that wraps onto a second line.

    # I. Background and purpose
    {{agency_name}} joins the HMIS.

    - first benefit

    - second benefit
      continued
    # II. Duties
    The lead will:
    ## A. General
    1. [Help desk] Staff a help desk on Business Days[^1].
    2. Issue accounts only when:
       a. the agreement is signed;
       b. [Fee] the fee is paid.

       An indented paragraph belonging to sub-item b.
    3. Keep logs.
    ## B. Scope
    Section text only.

    [^1]: Monday to Friday.
    """
)

VALUES = {
    "agency_name": "Hope House",
    "agency_address": "1 K St",
    "executive_director_name": "Ana Ruiz",
    "executive_director_title": "Executive Director",
    "lead_agency_name": "Sacramento Steps Forward",
    "template_version": "1",
    "revised_date": "06/19/2015",
}


def test_parse_builds_the_citation_tree():
    doc = parse_template(GOOD)

    assert doc.preamble == [Paragraph("An opening paragraph that wraps onto a second line.", 1)]
    first, second = doc.articles
    assert (first.citation, first.title) == ("I", "Background and purpose")
    bullets = first.blocks[1]
    assert isinstance(bullets, BulletList)
    assert [item.text for item in bullets.items] == ["first benefit", "second benefit continued"]

    general, scope = second.sections
    assert general.citation == "II.A"
    assert [p.citation for p in general.provisions] == ["II.A.1", "II.A.2", "II.A.3"]
    help_desk, accounts, _ = general.provisions
    assert help_desk.title == "Help desk"
    assert help_desk.text == "Staff a help desk on Business Days[^1]."
    assert accounts.title is None
    assert [i.citation for i in accounts.items] == ["II.A.2.a", "II.A.2.b"]
    assert accounts.items[1].title == "Fee"
    assert accounts.items[1].blocks[0].text == "An indented paragraph belonging to sub-item b."
    assert scope.blocks[0].text == "Section text only." and scope.provisions == []
    assert [(n.label, n.text) for n in doc.footnotes] == [("1", "Monday to Friday.")]


def test_sections_lists_provisions_and_provisionless_sections():
    assert sections(GOOD) == [
        ("II.A.1", "Help desk"),
        ("II.A.2", "Issue accounts only when"),
        ("II.A.3", "Keep logs"),
        ("II.B", "Scope"),
    ]


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("", 1, "no article heading"),
        ("# I. One\n# III. Three\n", 2, "expected 'II.', found 'III.'"),
        ("# Background\n", 1, "'# IV. Title'"),
        ("## A. Orphan\n", 1, "before any article heading"),
        ("# I. One\n## B. Bee\n", 2, "expected 'A.', found 'B.'"),
        ("# I. One\n## A. Aye\n### Deep\n", 3, "only '#'"),
        ("# I. One\n1. Loose provision\n", 2, "must follow a section heading"),
        ("# I. One\n## A. Aye\n1. x\n3. y\n", 4, "expected '2.', found '3.'"),
        ("# I. One\n## A. Aye\na. stray\n", 3, "must follow a numbered provision"),
        ("# I. One\n## A. Aye\n1. x\n   a. y\n   c. z\n", 5, "expected 'b.', found 'c.'"),
        (
            "# I. One\n## A. Aye\n1. x\n\nloose text\n",
            5,
            "unindented paragraph after provision I.A.1",
        ),
        ("# I. One\n## A. Aye\n1. [Title only]\n", 3, "needs text"),
        ("# I. One\nHello {{agncy_name}}\n", 2, "unknown placeholder {{agncy_name}}"),
        ("# I. One\nHello {{agency name}}\n", 2, "broken placeholder"),
        ("# I. One\nDays[^2].\n", 2, "[^2] is cited but never defined"),
        ("# I. One\nPlain.\n[^1]: Unused.\n", 3, "[^1] is defined but never cited"),
        ("# I. One\nA[^1].\n[^1]: x\n[^1]: y\n", 4, "[^1] is defined twice"),
    ],
)
def test_malformed_templates_report_the_line(body, line, fragment):
    with pytest.raises(TemplateError) as caught:
        parse_template(body)
    assert caught.value.line == line
    assert fragment in caught.value.message
    assert str(caught.value).startswith(f"line {line}: ")


def test_fill_replaces_placeholders():
    body = "Between {{ lead_agency_name }} and {{agency_name}} at {{agency_address}}."
    values = {**VALUES, "agency_address": "1 K St\n  Sacramento,   CA\n"}
    assert fill(body, values) == (
        "Between Sacramento Steps Forward and Hope House at 1 K St, Sacramento, CA."
    )


def test_fill_does_not_expand_placeholders_inside_values():
    values = {**VALUES, "agency_name": "{{lead_agency_name}} [^1]"}
    assert fill("{{agency_name}}", values) == "{{lead_agency_name}} [^1]"


@pytest.mark.parametrize(
    ("body", "values", "line", "fragment"),
    [
        ("one\ntwo {{agency_name}}", {}, 2, "no value given for placeholder {{agency_name}}"),
        ("{{agency_name}}", {"agency_name": "  \n "}, 1, "no value given"),
        ("one\n\n{{nonsense}}", VALUES, 3, "unknown placeholder {{nonsense}}"),
        (
            "{{agency_name}}",
            {**VALUES, "agency_nmae": "x"},
            None,
            "no such placeholder: agency_nmae",
        ),
    ],
)
def test_fill_errors(body, values, line, fragment):
    with pytest.raises(TemplateError) as caught:
        fill(body, values)
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_pdf_markup_escapes_template_words_and_values():
    values = {**VALUES, "agency_name": "<b>Hope</b> & Co"}
    markup = pdf_markup("HMIS & Data <i> {{agency_name}} Days[^1]", values)
    assert markup == (
        "HMIS &amp; Data &lt;i&gt; &lt;b&gt;Hope&lt;/b&gt; &amp; Co Days<super>1</super>"
    )


def test_plain_text_turns_footnote_citations_into_superscripts():
    assert plain_text("Business Days[^1] for {{agency_name}}", VALUES) == (
        "Business Days¹ for Hope House"
    )


# ---------------------------------------------------------------- the shipped template


def test_sample_template_metadata():
    sample = load_sample_template()
    assert sample.title == "HMIS Partner Agency Agreement"
    assert (sample.template_version, sample.revised_date) == ("1", "06/19/2015")


def test_sample_template_keeps_the_agreement_numbering():
    doc = parse_template(load_sample_template().body)

    layout = {a.citation: "".join(s.letter for s in a.sections) for a in doc.articles}
    assert layout == {
        "I": "", "II": "", "III": "AB", "IV": "ABC", "V": "ABCDE", "VI": "A", "VII": "A",
        "VIII": "AB",
    }  # fmt: skip
    provisions = [p for a in doc.articles for s in a.sections for p in s.provisions]
    counts = {p.citation.rsplit(".", 1)[0]: p.number for p in provisions}
    assert counts["IV.A"] == 8 and counts["IV.B"] == 8 and counts["V.E"] == 12
    assert counts["VIII.A"] == 4 and counts["VIII.B"] == 7
    by_citation = {p.citation: p for p in provisions}
    assert [i.letter for i in by_citation["IV.B.4"].items] == ["a", "b", "c", "d"]
    assert "one (1) business day" in by_citation["V.E.12"].text
    assert "ten (10) days" in by_citation["VIII.B.3"].text
    assert "Violence Against Women Act" in doc.articles[2].sections[0].blocks[0].text
    assert doc.footnotes[0].text.startswith("Business Days means Monday to Friday")


def test_sample_template_sections_for_default_notices():
    cited = dict(sections(load_sample_template().body))
    assert cited["VIII.B.1"] == "Termination on notice"
    assert cited["VIII.B.3"] == "Default and cure"
    assert cited["V.E.12"] == "Separation notice"
    assert cited["III.A"] == "Agreement, Understanding and Responsibilities"


def test_sample_template_fills_with_the_documented_placeholders():
    body = load_sample_template().body
    text = to_plain_text(parse_template(body), VALUES)
    assert "By signing this agreement, Hope House" in text
    assert "VIII. TERM OF AGREEMENT" in text
    assert "{{" not in text
    assert set(PLACEHOLDERS) >= {
        "agency_name", "agency_address", "executive_director_name",
        "executive_director_title", "lead_agency_name", "template_version", "revised_date",
    }  # fmt: skip
