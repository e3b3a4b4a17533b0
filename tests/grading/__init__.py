"""Submissions that try to cheat, break or outwit the grader, for the grading tests and benchmarks."""
