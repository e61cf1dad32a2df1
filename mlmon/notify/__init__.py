"""Notifications: alerts to Alertmanager, webhooks (Slack-compatible) and email."""
