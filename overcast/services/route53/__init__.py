"""Amazon Route 53: hosted zones, record sets with every routing policy, health checks that really probe, and a
DNS server answering from the hosted zones.

Follows the Route 53 API Reference (2013-04-01) and Developer Guide: public and private zones with their NS and
SOA records, ChangeResourceRecordSets with AWS's batch semantics and InvalidChangeBatch messages, changes that
are PENDING, then INSYNC on the virtual clock, alias records, simple/weighted/latency/failover/geolocation/
geoproximity/multivalue/IP-based routing, HTTP/HTTPS/TCP/calculated/CloudWatch-alarm health checks, and
TestDNSAnswer, which asks the same resolver the DNS server (`overcast start --dns-port`) uses.
"""
