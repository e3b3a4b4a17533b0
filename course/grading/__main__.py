"""``python -m course.grading SUBMISSIONS --out OUT``: see ``course.grading.runner``."""
from .runner import main

raise SystemExit(main())
