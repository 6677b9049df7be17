"""AWS Step Functions: state machines in the Amazon States Language (JSONPath and JSONata), executed durably on
the virtual clock, with activities, task tokens and the AWS service integrations through `Platform.call`.

Follows the Step Functions API Reference and Developer Guide (states, input/output processing, intrinsic
functions, error handling, service integrations) and the Amazon States Language specification.
"""
