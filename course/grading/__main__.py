"""``python -m course.grading SUBMISSIONS (--db GRADEBOOK | --out OUT)``: see ``course.gradebook.cli``."""
from course.gradebook.cli import main

raise SystemExit(main())
