"""A signing key, its certificate and two messages exactly as the Overcast before `cryptography` left them: the
key made by the pure-Python `rsa` package (1024-bit, PKCS#1 PEM) and stored in `sns_signing_keys`, the
certificate made by its own DER encoder, the messages signed by its own PKCS#1 v1.5 code (SignatureVersion 1 and
2). URLs have the server's endpoint as `{endpoint}`. A data dir upgraded from that version holds such a row:
the key must still load, sign, and be served at the same SigningCertURL."""

PRIVATE_KEY = """\
-----BEGIN RSA PRIVATE KEY-----
MIICXwIBAAKBgQDgLUqrRZqkF5ucqHsG/vvG+IMCjOHt+M+/vngEXJW3HcVjSRMg
gVXyfOXfeEzMMiKgCOq+p0GwsWb3HGPO3iWgjNIQx2DfNAI1HDSPdeQfyP74DzwA
w0RmM6HFYBtv968+RM3NjKSIXQxFFkj7gFg2qf+ytvhs4WS2TdkW6WbLfwIDAQAB
AoGAMY3xfpDBUVqinGul3nMJBv+yPiMUYj1o9xLMhvJMahEbrAngP4Q3koXHbrGy
EEVY4BV4hrKEU+GzSBavS85WUFHw6Dhr5pLCC56w3atqQZDITdRwI/y5Yu6egrX3
1FHKZ96DCcYd7LZdbZ1KBQbBJaw+EsDyidqMMAc2mAiSbbECRQDghw/l2e7QPAyT
GnIlCtYtMyFcb8YO2xLFZktD3R4n3H7JsKfeUa8+BDebbYVt4k9kOIDdwWSQ1e3w
lBgV49Qxw/aWOQI9AP+ZpXQHpLf8t9mqQUfHdOh+1WB69T66U7tJNf+xpO1A5Oc6
yf2yPYGQVwR9O7wkUTqkgIJan8x3mcavdwJEaqg+KRXpmAmuf4Kkjmwjab1ML7j5
AL2YoSUCw+4aER1xLSY52CY9dNxT/gV8yMIkrJsavDzOJO865Hm1J1Dez/UjAiEC
PHS0zxsfslJgDgJQ/uWraPIPl5YqDnjJ0xmc4A8UKd4610nNShWQoQzbvx/JntDV
NFG2cwcSIgzWP1y9GQJEaoN9sFJEXNEoYNLi3zm2Pq19S4putQjONeiR4+fBLddk
G+NSYVjxi0WHib4NuykonYa5TTuTnULE45c6lZFMbxkR5Jk=
-----END RSA PRIVATE KEY-----
"""

CERTIFICATE = """\
-----BEGIN CERTIFICATE-----
MIIB2TCCAUKgAwIBAgIIVYyo65anA+UwDQYJKoZIhvcNAQELBQAwLzERMA8GA1UE
CgwIT3ZlcmNhc3QxGjAYBgNVBAMMEXNucy5hbWF6b25hd3MuY29tMB4XDTI2MTEy
MjE5NDQzNloXDTM2MTEyMDE5NDQzNlowLzERMA8GA1UECgwIT3ZlcmNhc3QxGjAY
BgNVBAMMEXNucy5hbWF6b25hd3MuY29tMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB
iQKBgQDgLUqrRZqkF5ucqHsG/vvG+IMCjOHt+M+/vngEXJW3HcVjSRMggVXyfOXf
eEzMMiKgCOq+p0GwsWb3HGPO3iWgjNIQx2DfNAI1HDSPdeQfyP74DzwAw0RmM6HF
YBtv968+RM3NjKSIXQxFFkj7gFg2qf+ytvhs4WS2TdkW6WbLfwIDAQABMA0GCSqG
SIb3DQEBCwUAA4GBAItLdQIJMVoIqjlrL/AcGrdjFpBLA0ruc+1kJtZpyw4u0RgH
5K/IaAFix4PwTzMmzmHDZwb6m+lack8q1KY8B9Vk+5UG2ncidO8nB0HpdavJZYON
Z95R7gQV6QDsHYuXQZCmOZZfLi5at3bxJkaDlATVHgsW/PS4C8jYeG60JIUc
-----END CERTIFICATE-----
"""

CERTIFICATE_PATH = "/_overcast/sns/SimpleNotificationService-612eb69998ae8cb6206a0d8c39a38277.pem"

MESSAGES = [
    {
        "Type": "Notification",
        "MessageId": "46cbcc77-13ce-4b9d-8d65-314d2bed8897",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:old1",
        "Subject": "old",
        "Message": "before upgrade v1",
        "Timestamp": "2026-11-23T19:44:35.635Z",
        "SignatureVersion": "1",
        "Signature": "CpyHQFbr7r479h1pW+CUo/BacwOkhBmHTLH5ZSinR9zMyTlUDr0btFu44WT3EYEn8Vx3znxcdU8LFTx+ReD6BUzb8U8O7AoGc5YGXIs6wNbpndSIgJ4H05rIYHSTgC1aCZeh8RAARGIZy/hht7hDiLZzgjgDcPl4emvRdqCX3MA=",
        "SigningCertURL": "{endpoint}/_overcast/sns/SimpleNotificationService-612eb69998ae8cb6206a0d8c39a38277.pem",
        "UnsubscribeURL": "{endpoint}/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aold1%3A837b37eb-4119-4960-9b13-6dda451757de",
    },
    {
        "Type": "Notification",
        "MessageId": "e25ceb38-d633-4dab-9b61-bf767753b1b2",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:old2",
        "Subject": "old",
        "Message": "before upgrade v2",
        "Timestamp": "2026-11-23T19:44:36.130Z",
        "SignatureVersion": "2",
        "Signature": "tBBVQGd8rRjcrQa00o0UdC/Ugslox1HgO1e9GtElUnfDqKtyuOAIrCkqq4us69QPeSddTDrbrC+Dpc+T8p/6LjaEBjMaByy1Aajiw3vp4V+MPlDDnIv3AA/p9P+a/cmfc53Z1S3b2xCUfvi2MJ2a6QFVSw8qzJW2o5Ha9angD+Q=",
        "SigningCertURL": "{endpoint}/_overcast/sns/SimpleNotificationService-612eb69998ae8cb6206a0d8c39a38277.pem",
        "UnsubscribeURL": "{endpoint}/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aold2%3A59ed3933-17be-4f7f-8e0f-fdd48e73a690",
    },
]
