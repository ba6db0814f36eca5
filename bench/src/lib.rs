//! Placeholder: filled in by the performance issue.
