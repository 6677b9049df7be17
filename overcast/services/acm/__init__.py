"""AWS Certificate Manager: real X.509 certificates signed by Overcast's local certificate authority.

Follows the ACM API Reference (2015-12-08) and User Guide: RequestCertificate with DNS validation (complete once
the validation CNAME exists in a Route 53 zone Overcast hosts) or email validation (approved through
`/_overcast/acm/approve`), ImportCertificate with its checks of the certificate, chain and key, private
certificates (a CertificateAuthorityArn) that ExportCertificate hands out, managed renewal 60 days before
expiry on the virtual clock, in-use tracking (listeners of ELB) that blocks deletion. The local CA's root,
kept in the data directory's database, is at `/_overcast/acm/ca.pem`: trust it to trust what Overcast serves.
"""
