"""Concept questions with instant feedback, for the end of each lesson.

    quiz = lesson_quiz(3)            # the questions of lesson 3; shows itself in a notebook cell
    quiz.answer(0, 1)                # choose the second option of the first question, as a click does
    quiz.answer(1, 0.25)             # a number for a numeric question
    quiz.results                     # one Feedback per question answered so far

After an attempt the widget shows whether it was right, the right answer and a one-line reason.
Opened without a kernel, a stored notebook shows the questions as Markdown (with each answer in
a collapsible block), because the live view needs a running kernel and is not stored.

A question is a dict (or a ``Question``): ``{"text": ..., "choices": [...], "answer": index,
"why": ...}`` for multiple choice, ``{"text": ..., "answer": number, "tolerance": ..., "why": ...}``
for a numeric answer. The course's questions live in ``LESSON_QUESTIONS``; the tests check the
numeric answers against the course library.
"""
from __future__ import annotations

import html
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple, Sequence

import ipywidgets as widgets

__all__ = ["Question", "Feedback", "Quiz", "quiz", "lesson_quiz", "LESSON_QUESTIONS"]


class Question(NamedTuple):
    """One question: multiple choice when ``choices`` is given, numeric otherwise."""

    text: str
    answer: float | int          # index of the right choice, or the right number
    why: str                     # one line: the reason
    choices: tuple = ()
    tolerance: float = 0.0       # numeric: accepted when |given - answer| <= tolerance (plus 0.1 %),
                                 # or when it is the answer rounded to the digits given (two or more)

    @property
    def numeric(self) -> bool:
        return not self.choices

    @property
    def answer_text(self) -> str:
        return self.choices[self.answer] if self.choices else f"{self.answer:g}"

    def check(self, given) -> bool:
        if self.numeric:
            value = parse_number(given)
            if value is None:
                return False
            answer = float(self.answer)
            if math.isclose(value, answer, rel_tol=1e-3, abs_tol=self.tolerance):
                return True
            # the answer rounded as the learner rounded it (at least two significant digits)
            digits = significant_digits(given)
            return digits >= 2 and math.isclose(value, _round_significant(answer, digits), rel_tol=1e-9)
        if isinstance(given, str):
            return given == self.choices[self.answer]
        return given == self.answer


_GROUPED = re.compile(r"^[+-]?\d{1,3}([,\u00a0\u202f _']\d{3})+(\.\d*)?$")


def parse_number(given) -> float | None:
    """A number as a learner types it: ``7850``, ``7,850``, ``7 850``, ``0.3``, ``0,3``, ``.3``,
    ``5.2e5``, ``−3`` (a minus sign); None when it is not a number."""
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return float(given)
    if not isinstance(given, str):
        return None
    text = given.strip().replace("\u2212", "-")
    if _GROUPED.match(text):
        text = re.sub(r"[,\u00a0\u202f _']", "", text)
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")              # a decimal comma: 0,3
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def significant_digits(given) -> int:
    """How many significant digits a typed number shows (``0.015``: 2, ``522,000``: 3, ``5.2e5``: 2)."""
    if parse_number(given) is None:
        return 0
    text = str(given).strip().lower().lstrip("+-\u2212")
    mantissa = re.split(r"e", text)[0]
    digits = re.sub(r"[^0-9.]", "", mantissa.replace(",", ".") if mantissa.count(",") == 1
                    and "." not in mantissa and not _GROUPED.match(mantissa) else re.sub(r"[,\u00a0\u202f _']", "", mantissa))
    whole, _, fraction = digits.partition(".")
    if fraction:
        return len((whole + fraction).lstrip("0"))
    return len(whole.lstrip("0").rstrip("0")) or (1 if whole else 0)


def _round_significant(value: float, digits: int) -> float:
    """``value`` rounded half up to ``digits`` significant digits, as a lesson rounds (7850 -> 7900)."""
    if value == 0:
        return 0.0
    exact = Decimal(repr(value))
    step = Decimal(1).scaleb(math.floor(math.log10(abs(value))) - digits + 1)
    return float(exact.quantize(step, rounding=ROUND_HALF_UP))


class Feedback(NamedTuple):
    """What an attempt got: right or not, the right answer and why."""

    correct: bool
    given: object
    answer: str
    why: str

    @property
    def message(self) -> str:
        head = "Right." if self.correct else f"Not quite (you gave {self.given})."
        return f"{head} Answer: {self.answer}. {self.why}"


def _as_question(q) -> Question:
    if isinstance(q, Question):
        question = q
    else:
        q = dict(q)
        question = Question(q["text"], q["answer"], q["why"], tuple(q.get("choices", ())),
                            float(q.get("tolerance", 0.0)))
    if question.choices and not (isinstance(question.answer, int) and 0 <= question.answer < len(question.choices)):
        raise ValueError(f"the answer of {question.text!r} must be the index of one of its "
                         f"{len(question.choices)} choices, got {question.answer!r}.")
    if not question.why.strip():
        raise ValueError(f"give the reason (why) for {question.text!r}.")
    return question


class Quiz:
    """Questions with a control each, a 'Check' button and a feedback line.

    Attributes: ``questions``, ``results`` (question index -> Feedback of the last attempt),
    ``widget`` (the ipywidgets box). Drive it from Python with ``answer(i, value)``.
    """

    def __init__(self, questions: Sequence, title: str = "Check your understanding"):
        self.questions = [_as_question(q) for q in questions]
        if not self.questions:
            raise ValueError("a quiz needs at least one question.")
        self.title = title
        self.results: dict[int, Feedback] = {}
        self.controls, self.buttons, self.feedback = [], [], []
        rows = [widgets.HTML(f"<h4>{html.escape(title)}</h4>")]
        for i, q in enumerate(self.questions):
            if q.numeric:
                control = widgets.Text(value="", placeholder="a number", layout={"width": "12em"})
            else:
                control = widgets.RadioButtons(options=list(q.choices), value=None,
                                               layout={"width": "max-content"})
            button = widgets.Button(description="Check", layout={"width": "6em"})
            line = widgets.HTML("")
            button.on_click(lambda _, i=i: self._check(i))
            self.controls.append(control)
            self.buttons.append(button)
            self.feedback.append(line)
            rows.append(widgets.VBox([widgets.HTML(f"<b>{i + 1}.</b> {html.escape(q.text)}"),
                                      widgets.HBox([control, button]), line]))
        self.widget = widgets.VBox(rows)
        self.widget.add_class("course-quiz")  # a slide scrolls it rather than overflow the screen

    def _check(self, i: int) -> Feedback:
        q, control = self.questions[i], self.controls[i]
        given = control.value
        if not q.numeric and given is not None:
            given = q.choices.index(given)
        if given is None or (q.numeric and str(given).strip() == ""):
            self.feedback[i].value = "<span style='color:#666'>Choose or type an answer first.</span>"
            return None
        result = Feedback(q.check(given), control.value, q.answer_text, q.why)
        self.results[i] = result
        colour = "#009E73" if result.correct else "#D55E00"
        self.feedback[i].value = f"<span style='color:{colour}'>{html.escape(result.message)}</span>"
        return result

    def answer(self, i: int, value) -> Feedback:
        """Answer question ``i`` (0-based) as a learner would and press 'Check'; the Feedback.

        value: the index of a choice (or its text) for multiple choice, a number for numeric.
        """
        q, control = self.questions[i], self.controls[i]
        if q.numeric:
            control.value = str(value)
        else:
            control.value = value if isinstance(value, str) else q.choices[int(value)]
        self.buttons[i].click()
        return self.results[i]

    @property
    def score(self) -> tuple[int, int]:
        """(right answers so far, number of questions)."""
        return sum(r.correct for r in self.results.values()), len(self.questions)

    def to_markdown(self) -> str:
        """The questions as Markdown, each answer in a collapsible block (for a stored notebook)."""
        lines = [f"#### {self.title}", ""]
        for i, q in enumerate(self.questions):
            lines.append(f"{i + 1}. {q.text}")
            for k, choice in enumerate(q.choices):
                lines.append(f"   - ({chr(ord('a') + k)}) {choice}")
            lines.append(f"   <details><summary>Answer</summary>{html.escape(q.answer_text)}. "
                         f"{html.escape(q.why)}</details>")
            lines.append("")
        lines.append("*Run this cell to answer here and get feedback.*")
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/markdown"] = self.to_markdown()
        bundle["text/plain"] = f"{self.title}: {len(self.questions)} questions"
        return bundle


def quiz(questions: Sequence, title: str = "Check your understanding") -> Quiz:
    """A Quiz from a list of question dicts (see the module docstring)."""
    return Quiz(questions, title)


def lesson_quiz(lesson: int) -> Quiz:
    """The concept questions that end lesson ``lesson`` (1 to 5)."""
    if lesson not in LESSON_QUESTIONS:
        raise ValueError(f"lessons are {sorted(LESSON_QUESTIONS)}, got {lesson!r}.")
    return Quiz(LESSON_QUESTIONS[lesson], title=f"Lesson {lesson}: check your understanding")


def _mc(text, choices, answer, why):
    return {"text": text, "choices": choices, "answer": answer, "why": why}


def _num(text, answer, why, tolerance=0.0):
    return {"text": text, "answer": answer, "why": why, "tolerance": tolerance}


LESSON_QUESTIONS = {
    1: [
        _mc("A perceptron has weights w = (1, -1), bias 0 and a step activation (1 if w·x + b ≥ 0, else 0). "
            "What does it output for x = (2, 3)?", ["0", "1"], 0,
            "w·x + b = 2 - 3 = -1, which is below 0."),
        _num("It predicts 0 for an example labelled 1, with x = (2, -1) and learning rate 0.1. "
             "By how much does w1 change?", 0.2,
             "Δw1 = lr · (y - ŷ) · x1 = 0.1 · (1 - 0) · 2 = 0.2."),
        _mc("After an epoch with no mistake, what does the next epoch do to the weights?",
            ["moves them a little towards the data", "nothing: every update is lr·(y - ŷ)·x = 0",
             "shrinks them", "resets them"], 1,
            "The rule only changes weights on mistakes, and there are none."),
        _mc("Why does the perceptron never reach zero mistakes on XOR?",
            ["too few epochs", "the learning rate is too small",
             "no straight line separates the two classes", "the data is noisy"], 2,
            "One perceptron draws one straight line; XOR's classes sit on opposite corners."),
        _mc("Which step of the learning loop measures how wrong a prediction is?",
            ["forward propagation", "the loss", "backpropagation", "the update"], 1,
            "The loss turns prediction and label into one number that training makes smaller."),
    ],
    2: [
        _num("How many parameters has Dense(10) on 784 inputs (weights and biases)?", 7850,
             "784 · 10 weights + 10 biases = 7850."),
        _mc("Two Dense layers with a linear activation, one on top of the other: what can they "
            "compute that one linear Dense layer cannot?",
            ["curved decision boundaries", "XOR", "nothing: together they are one linear map",
             "probabilities"], 2,
            "W2(W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): still linear."),
        _num("A softmax over 3 classes gives 0.2 and 0.5 for the first two. What does it give "
             "for the third?", 0.3, "Softmax outputs are positive and add up to 1.", 1e-9),
        _mc("Which activation for the output layer of 10 mutually exclusive classes?",
            ["ReLU", "sigmoid on each unit", "softmax", "linear"], 2,
            "Softmax turns 10 scores into a probability distribution over the classes."),
        _num("What is the derivative of ReLU at z = -3?", 0,
             "ReLU is flat (0) for negative inputs, so no gradient flows through that unit."),
    ],
    3: [
        _mc("What happens to a sigmoid layer's gradient when all its inputs z are large (|z| ≫ 1)?",
            ["it grows", "it nearly vanishes", "it stays about the same", "it changes sign"], 1,
            "σ'(z) = σ(z)(1 - σ(z)) is close to 0 when σ(z) is close to 0 or 1: the unit saturates."),
        _num("What is the largest value the sigmoid's derivative ever takes?", 0.25,
             "At z = 0, σ = 0.5 and σ' = 0.5 · 0.5 = 0.25; each sigmoid layer scales the gradient by at most 1/4."),
        _mc("In the 2-2-1 graph, dL/dw21 = dL/dz1 times what?", ["x1", "x2", "h1", "v1"], 1,
            "z1 = x1 w11 + x2 w21 + b1, so dz1/dw21 = x2."),
        _mc("The output is softmax with categorical cross-entropy. What is dL/dz for the output "
            "layer (p the prediction, y the one-hot label)?", ["p - y", "(p - y) p (1 - p)", "-log p", "y / p"], 0,
            "The softmax's derivative and the log cancel: the error signal is simply p - y."),
        _mc("A finite-difference check (float64) gives a relative error of 0.3 for one weight's gradient. "
            "What does it most likely mean?",
            ["nothing: finite differences are always that rough",
             "the backward code for that weight is wrong",
             "the network is untrained, so its gradients are not meaningful yet",
             "that weight's gradient is small, so any relative error looks large"], 1,
            "A correct gradient agrees to about 1e-6 or better in float64, trained or not; 0.3 is a bug, not rounding."),
    ],
    4: [
        _num("The gradient is 1.5 and the learning rate 0.01. How far does plain gradient "
             "descent move the weight?", 0.015, "step = lr · gradient = 0.01 · 1.5 = 0.015."),
        _num("SGD(lr=0.1, decay=0.01): what is the learning rate after 100 updates (the rate the "
             "101st update uses)?", 0.05,
             "lr / (1 + decay · t), t the updates already made: 0.1 / (1 + 0.01 · 100) = 0.05."),
        _mc("With momentum μ = 1 and gradients that become zero, the velocity…",
            ["shrinks to zero", "grows without bound", "stays as it is, so the weight keeps moving",
             "changes sign"], 2,
            "v ← 1 · v - lr · 0 = v: nothing damps it (it grows only if gradients keep pushing the same way)."),
        _mc("Under Adagrad, one weight has had a steady gradient of 10 for 100 updates, another a "
            "steady gradient of 0.1. Which takes the larger step now?",
            ["the one with gradient 10: a larger gradient gives a larger step",
             "the one with gradient 0.1: Adagrad gives flat directions large steps",
             "about the same: each step is η · g / √(100 g²) = η / 10",
             "neither moves any more: the sums have grown too large"], 2,
            "The effective learning rate η/√G is 100 times smaller for the large gradient, which makes "
            "the two steps equal: Adagrad evens out the steps, it does not reverse them."),
        _mc("What is the problem Adam's bias correction solves?",
            ["the averages m and v start at 0, so the first ones are too small",
             "the first steps are too large and must be damped until the averages settle",
             "mini-batch gradients are noisy, so m is biased towards the last batch",
             "squaring the gradients makes v too large, so the steps would be too small"], 0,
            "Dividing by 1 - β^t scales the early averages up to the size of the gradients."),
        _num("On the valley L = (w1² + 20·w2²)/2, above which learning rate does plain gradient "
             "descent diverge?", 0.1,
             "Each step multiplies w2 by 1 - 20·lr, which must stay above -1: lr < 2/λ_max = 2/20."),
    ],
    5: [
        _mc("Which of these is a hyperparameter?",
            ["a weight of the first layer", "a bias", "the learning rate", "a gradient"], 2,
            "Hyperparameters are chosen before training; weights and biases are learned."),
        _mc("Validation accuracy falls while training accuracy keeps rising. What is happening?",
            ["underfitting", "overfitting: the network memorises the training set",
             "the learning rate is too small", "a bug in the validation data"], 1,
            "The network gets better at its training examples and worse at new ones."),
        _mc("All weights of the network start at 0 (sigmoid hidden units). What happens in training?",
            ["the hidden units start equal but noise in the data soon makes them differ",
             "all hidden units stay identical, so the layer acts as one unit",
             "nothing is learned at all: every gradient is zero",
             "the units differ after the first update, because the output layer's error differs per unit"], 1,
            "Units with equal incoming and outgoing weights get identical gradients, so nothing ever makes "
            "them differ. (Zero only in one layer, with a random next layer, is not enough: the units then "
            "get different errors back and soon differ.)"),
        _num("A batch of 100 examples goes through a 784-512-10 network in float32 (4 bytes). How many "
             "bytes do the input batch and the two layers' outputs take together?", 522400,
             "100 · (784 + 512 + 10) · 4 = 522,400 bytes: the input (313,600), the hidden layer's outputs "
             "(204,800) and the output layer's (4,000)."),
        _mc("Why does Glorot initialisation scale the weights with the layer's fan-in and fan-out?",
            ["to start every weight as close to 0 as possible: the smaller, the safer",
             "to keep the spread of activations and gradients about the same from layer to layer",
             "to give every unit of a layer the same starting weights, sized to the layer",
             "to make the first loss as small as possible"], 1,
            "Too large and the signal explodes (or saturates tanh); too small and it dies out."),
        _mc("A network's loss stays at 2.30 on MNIST. Per-layer statistics show an update-to-weight "
            "ratio of 0.4 in every layer. What do you change first?",
            ["train for more epochs: it has not converged yet",
             "collect more training data",
             "lower the learning rate: each step rewrites almost half of every weight",
             "raise the learning rate: the loss is not moving"], 2,
            "About 1e-3 is healthy; 0.4 means the steps are far too large, so the weights jump about "
            "instead of descending. More data or epochs cannot help while a single batch cannot be fitted."),
    ],
}
