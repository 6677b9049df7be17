"""Elastic Load Balancing v2: application, network and gateway load balancers that really carry traffic.

Follows the Elastic Load Balancing API Reference (2015-12-01) and the User Guides for Application and Network
Load Balancers: load balancers in subnets of several Availability Zones, listeners and their rules (conditions,
priorities, forward/redirect/fixed-response/authenticate actions), target groups of instances, IP addresses,
Lambda functions or an ALB, health checks with AWS's states and reason codes, deregistration delay on the
virtual clock. Each listener listens on a loopback port (`proxy.py`); health checks probe targets (`workers.py`).
"""
