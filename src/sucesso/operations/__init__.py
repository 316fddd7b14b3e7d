"""The CS operation: playbooks, tasks, churn requests, reviews, targets, team sizing, notifications."""
