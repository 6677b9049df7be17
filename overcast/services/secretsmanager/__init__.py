"""Secrets Manager: secrets with versions and staging labels, values encrypted through KMS (a data key per
version), deletion with a recovery window on the virtual clock, resource policies, and rotation by a Lambda
function invoked with its four steps, on demand and on a rate()/cron() schedule.

Follows the AWS Secrets Manager API Reference (2017-10-17) and User Guide (rotation, staging labels).
"""
