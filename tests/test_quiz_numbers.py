"""Numeric quiz answers as learners type them: thousands separators, decimal commas, rounding."""
import pytest

pytest.importorskip("ipywidgets")

from course.quiz import Question, lesson_quiz, parse_number, significant_digits  # noqa: E402


@pytest.mark.parametrize("text, value", [("7850", 7850), ("7,850", 7850), ("7 850", 7850), ("7\u202f850", 7850),
                                         ("522,400", 522400), ("0.3", 0.3), ("0,3", 0.3), (".3", 0.3),
                                         ("5.2e5", 520000), ("\u22123", -3), (" 0.015 ", 0.015)])
def test_numbers_as_typed(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "x", "1,5,6", "7,85,0", "nan", "inf", "1.2.3"])
def test_not_numbers(text):
    assert parse_number(text) is None


def test_significant_digits():
    assert [significant_digits(t) for t in ["0.015", "522,000", "5.2e5", "7850", "0.0150"]] == [2, 3, 2, 3, 3]


def test_the_rounding_the_question_invites_is_accepted():
    params = Question("Dense(10) on 784 inputs?", 7850, "784 * 10 + 10.")
    assert params.check("7,850") and params.check("7.85e3") and params.check("7900")
    assert not params.check("8000") and not params.check("7800") and not params.check("7,870")
    memory = Question("bytes?", 522400, "...")
    assert memory.check("522,400") and memory.check("522,000") and memory.check("5.2e5")
    assert not memory.check("500000")


def test_a_learner_types_a_separated_answer_in_the_lesson_quiz():
    quiz = lesson_quiz(2)
    assert quiz.answer(0, "7,850").correct
    assert not quiz.answer(0, "7,580").correct
