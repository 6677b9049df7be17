"""EC2's VPC networking: VPCs, subnets, route tables, gateways, Elastic IPs, network ACLs, security groups,
network interfaces, peering, endpoints, DHCP options, prefix lists, transit gateways, flow logs, and the
Reachability Analyzer, following the Amazon EC2 API Reference and the Amazon VPC User Guide."""
