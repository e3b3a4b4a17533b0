"""course.quiz: concept questions with instant feedback, and the lessons' questions are right."""
import numpy as np
import pytest

from course import builders, quiz
from course.activations import sigmoid, sigmoid_backward
from course.layers import Dense
from course.models import Sequential
from course.optimizers import SGD, sgd_step
from course.perceptron import perceptron_predict, perceptron_update
from course.runs import optimizers as lesson4

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_a_right_and_a_wrong_attempt_show_the_answer_and_the_reason():
    q = quiz.quiz([{"text": "2 + 2?", "choices": ["3", "4"], "answer": 1, "why": "Count."},
                   {"text": "lr 0.01, gradient 1.5: step?", "answer": 0.015, "why": "lr times g."}])
    wrong = q.answer(0, 0)
    assert not wrong.correct and "Answer: 4. Count." in wrong.message
    assert "Answer: 4" in q.feedback[0].value, "the widget shows the right answer after an attempt"
    assert q.answer(0, "4").correct
    assert q.answer(1, 0.015).correct and q.answer(1, "0.0150").correct
    assert not q.answer(1, "0.15").correct and not q.answer(1, "a lot").correct
    assert q.score == (1, 2)


def test_no_answer_yet_asks_for_one_and_records_nothing():
    q = quiz.quiz([{"text": "?", "answer": 1, "why": "."}])
    assert q.buttons[0].click() is None and "first" in q.feedback[0].value
    assert q.results == {}


def test_bad_questions_are_refused():
    with pytest.raises(ValueError, match="index"):
        quiz.quiz([{"text": "?", "choices": ["a", "b"], "answer": 2, "why": "."}])
    with pytest.raises(ValueError, match="reason"):
        quiz.quiz([{"text": "?", "answer": 1, "why": " "}])
    with pytest.raises(ValueError):
        quiz.lesson_quiz(9)


def test_the_stored_notebook_shows_the_questions_as_markdown_without_a_kernel():
    q = quiz.lesson_quiz(3)
    bundle = q._repr_mimebundle_()
    assert WIDGET_VIEW in bundle, "live: the widget"
    markdown = bundle["text/markdown"]
    for question in q.questions:
        assert question.text in markdown
        for choice in question.choices:
            assert choice in markdown
    assert markdown.count("<details>") == len(q.questions)


@pytest.mark.parametrize("lesson", [1, 2, 3, 4, 5])
def test_each_lesson_has_four_to_six_questions_and_its_own_answers_are_accepted(lesson):
    q = quiz.lesson_quiz(lesson)
    assert 4 <= len(q.questions) <= 6
    for i, question in enumerate(q.questions):
        assert q.answer(i, question.answer).correct
        if question.choices:
            assert not q.answer(i, (question.answer + 1) % len(question.choices)).correct
        else:
            assert not q.answer(i, 1.5 * float(question.answer) + 1).correct
    assert q.score == (0, len(q.questions))


def _numeric(lesson, words):
    (question,) = [q for q in quiz.lesson_quiz(lesson).questions if words in q.text]
    return question.answer


def test_the_numeric_answers_are_what_the_course_library_computes():
    assert perceptron_predict(np.array([[2.0, 3.0]]), np.array([1.0, -1.0]), 0.0)[0] == 0
    step = perceptron_update(np.array([2.0, -1.0]), 1, np.array([-1.0, 0.0]), 0.0, 0.1)
    assert np.isclose(step.weights[0] - (-1.0), _numeric(1, "By how much does w1 change"))
    assert Sequential([Dense(10, input_shape=(784,))]).count_params() == _numeric(2, "Dense(10) on 784")
    slope = sigmoid_backward(np.ones(1), sigmoid(np.zeros(1)))[0]
    assert np.isclose(slope, _numeric(3, "largest value"))
    assert np.isclose(-sgd_step(np.zeros(1), np.array([1.5]), np.zeros(1), lr=0.01).param[0],
                      _numeric(4, "gradient is 1.5"))
    schedule = lesson4.learning_rate_schedule(SGD(lr=0.1, decay=0.01), 101)
    assert np.isclose(schedule[100], _numeric(4, "after 100 updates"))
    memory = builders.activation_memory(builders.mlp(hidden=(512,)), batch_size=100)
    from course import conditioning, landscapes
    assert conditioning.stable_lr(landscapes.valley()) == _numeric(4, "above which learning rate")
    assert memory == _numeric(5, "input batch and the two layers' outputs")
