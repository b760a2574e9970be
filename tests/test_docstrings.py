"""core.docstrings: a command's description from its module's docstring, also when docstrings are stripped."""

from core.docstrings import first_line, first_paragraph

DOC = """Print the plan.

It compares two synths.
"""


def test_the_first_line_is_the_summary():
    assert first_line("One line.\nMore detail.") == "One line."


def test_the_first_paragraph_runs_to_the_blank_line():
    assert first_paragraph("Two lines\nof summary.\n\nDetail.") == "Two lines\nof summary."
    assert first_paragraph(DOC) == "Print the plan."


def test_without_a_docstring_the_description_is_empty():
    assert first_line(None) == ""
    assert first_paragraph(None) == ""
    assert first_line("") == ""
