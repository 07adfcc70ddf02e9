"""Homework: questions and keys, the answer judge, batch grading, exercise sheets and Moodle export."""
