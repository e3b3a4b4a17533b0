"""``python -m course.grading SUBMISSIONS --out OUT``: see ``course.grading.trusted.runner``."""
from .trusted.runner import main

raise SystemExit(main())
