"""The AWS SDK for JavaScript v3 against a real server: S3 with path-style addressing, `@aws-sdk/lib-storage`'s
`Upload` doing a real multipart upload (three parts, two in flight at once, the SDK's default CRC32 per part, so a
COMPOSITE object checksum), again from a stream of unknown length, the body streamed back with GetObject and a
ranged GET, a PutObject with a CRC32 checksum, ListObjectsV2, a presigned GET URL (`@aws-sdk/s3-request-presigner`)
fetched with node's own fetch, DeleteObjects and the typed errors (NoSuchKey, NoSuchBucket, a HEAD's NotFound)."""

import base64
import hashlib
import zlib

import pytest

from tests.js import run_node

pytestmark = pytest.mark.slow

SMALL = "checksummed body, ünïcode included\n" * 100

PROGRAM = r"""
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { S3Client, CreateBucketCommand, GetObjectCommand, PutObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectsCommand, NoSuchKey, NoSuchBucket } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const s3 = new S3Client({ endpoint: process.env.OVERCAST_ENDPOINT, region: "us-east-1", forcePathStyle: true });
const Bucket = "js-bucket";
const out = {};
const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const md5 = (data) => createHash("md5").update(data).digest();
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n >>> 0;
});
const crc32 = (data) => {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  const raw = Buffer.alloc(4);
  raw.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return raw;
};

await s3.send(new CreateBucketCommand({ Bucket }));

// ~12 MiB of deterministic, not-too-regular bytes: parts of 5 MiB, 5 MiB and the rest
const MiB = 1024 * 1024;
const big = Buffer.alloc(12 * MiB + 12345);
let x = 2463534242;
for (let i = 0; i < big.length; i++) {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  big[i] = x & 0xff;
}
out.bigSize = big.length;
out.bigSha256 = sha256(big);
const partSize = 5 * MiB;
const partMd5s = [];
const partCrcs = [];
for (let start = 0; start < big.length; start += partSize) {
  partMd5s.push(md5(big.subarray(start, start + partSize)));
  partCrcs.push(crc32(big.subarray(start, start + partSize)));
}
out.expectedEtag = `"${md5(Buffer.concat(partMd5s)).toString("hex")}-${partMd5s.length}"`;
// the SDK sends a CRC32 of each part by default; the object's is the CRC32 of the parts' CRC32s, then -N
out.expectedCompositeCrc32 = `${crc32(Buffer.concat(partCrcs)).toString("base64")}-${partCrcs.length}`;

const upload = new Upload({
  client: s3,
  params: { Bucket, Key: "big/blob.bin", Body: big, ContentType: "application/octet-stream" },
  partSize, queueSize: 2, leavePartsOnError: false,
});
const progressParts = new Set();
upload.on("httpUploadProgress", (progress) => { if (progress.part) progressParts.add(progress.part); });
const uploaded = await upload.done();
out.uploadEtag = uploaded.ETag;
out.uploadChecksum = [uploaded.ChecksumCRC32, uploaded.ChecksumType];
out.uploadKey = uploaded.Key;
out.uploadBucket = uploaded.Bucket;
out.progressParts = [...progressParts].sort((a, b) => a - b);

// a stream of unknown length (as when piping): lib-storage cuts it into parts as it reads
const streamed = await new Upload({
  client: s3,
  params: { Bucket, Key: "streamed.bin", Body: Readable.from((function* () {
    for (let start = 0; start < 11 * MiB; start += 64 * 1024) yield big.subarray(start, start + 64 * 1024);
  })()) },
  partSize, queueSize: 2,
}).done();
const streamedHead = await s3.send(new HeadObjectCommand({ Bucket, Key: "streamed.bin" }));
out.streamed = [streamed.ETag.endsWith('-3"'), streamedHead.ContentLength, streamedHead.ETag === streamed.ETag];
const streamedBack = await s3.send(new GetObjectCommand({ Bucket, Key: "streamed.bin" }));
out.streamedEqual = Buffer.from(await streamedBack.Body.transformToByteArray()).equals(big.subarray(0, 11 * MiB));
await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "streamed.bin" }], Quiet: true } }));

const got = await s3.send(new GetObjectCommand({ Bucket, Key: "big/blob.bin" }));
const chunks = [];
for await (const chunk of got.Body) chunks.push(chunk);
const back = Buffer.concat(chunks);
out.getEtag = got.ETag;
out.getLength = got.ContentLength;
out.getContentType = got.ContentType;
out.getChecksum = [got.ChecksumCRC32, got.ChecksumType];
out.backSize = back.length;
out.backSha256 = sha256(back);
out.backEqual = back.equals(big);
// a range across the first part boundary
const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: "big/blob.bin", Range: `bytes=${partSize - 3}-${partSize + 4}` }));
out.range = [ranged.$metadata.httpStatusCode, ranged.ContentRange, ranged.ContentLength,
  Buffer.from(await ranged.Body.transformToByteArray()).equals(big.subarray(partSize - 3, partSize + 5))];

const small = process.env.SMALL_BODY;
const put = await s3.send(new PutObjectCommand({
  Bucket, Key: "small.txt", Body: small, ContentType: "text/plain; charset=utf-8", ChecksumAlgorithm: "CRC32",
}));
out.putEtag = put.ETag;
out.putCrc32 = put.ChecksumCRC32;
out.putChecksumType = put.ChecksumType;
const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "small.txt", ChecksumMode: "ENABLED" }));
out.headCrc32 = head.ChecksumCRC32;
out.headLength = head.ContentLength;
const smallBack = await s3.send(new GetObjectCommand({ Bucket, Key: "small.txt", ChecksumMode: "ENABLED" }));
out.smallBack = await smallBack.Body.transformToString();
out.smallBackCrc32 = smallBack.ChecksumCRC32;

await s3.send(new PutObjectCommand({ Bucket, Key: "big/other.txt", Body: "other" }));
const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
out.listed = listed.Contents.map((o) => [o.Key, o.Size, o.ETag]);
out.listedCount = listed.KeyCount;
const prefixed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "big/", Delimiter: "/", MaxKeys: 1 }));
out.prefixed = [prefixed.Contents.map((o) => o.Key), prefixed.IsTruncated, Boolean(prefixed.NextContinuationToken)];

const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: "small.txt" }), { expiresIn: 300 });
out.presignedQuery = [...new URL(url).searchParams.keys()].filter((k) => k.startsWith("X-Amz-")).sort();
out.presignedPathStyle = new URL(url).pathname;
out.presignedPayload = new URL(url).searchParams.get("X-Amz-Content-Sha256");
const fetched = await fetch(url);
out.presignedStatus = fetched.status;
out.presignedBody = await fetched.text();
const tampered = await fetch(url.replace("small.txt", "big/other.txt"));
out.tamperedStatus = tampered.status;
out.tamperedCode = (/<Code>([^<]*)<\/Code>/.exec(await tampered.text()) || [])[1];

const deleted = await s3.send(new DeleteObjectsCommand({
  Bucket,
  Delete: { Objects: [{ Key: "big/blob.bin" }, { Key: "small.txt" }, { Key: "never-existed" }] },
}));
out.deleted = (deleted.Deleted || []).map((d) => d.Key).sort();
out.deleteErrors = deleted.Errors || [];
out.remaining = ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents || []).map((o) => o.Key);

try {
  await s3.send(new GetObjectCommand({ Bucket, Key: "big/blob.bin" }));
  out.missing = "no error";
} catch (error) {
  out.missing = [error instanceof NoSuchKey, error.name, error.$metadata.httpStatusCode];
}
try {
  await s3.send(new HeadObjectCommand({ Bucket, Key: "big/blob.bin" }));
  out.headMissing = "no error";
} catch (error) {
  out.headMissing = [error.name, error.$metadata.httpStatusCode];
}
try {
  await s3.send(new GetObjectCommand({ Bucket: "no-such-js-bucket", Key: "x" }));
  out.noBucket = "no error";
} catch (error) {
  out.noBucket = [error instanceof NoSuchBucket, error.name, error.$metadata.httpStatusCode];
}
console.log(JSON.stringify(out));
"""


def test_s3_through_the_javascript_sdk(overcast, monkeypatch):
    monkeypatch.setenv("SMALL_BODY", SMALL)
    out = run_node(overcast.endpoint, PROGRAM, timeout=120)

    # lib-storage's Upload: a multipart upload of three parts whose ETag is AWS's md5-of-md5s with "-3"
    assert out["bigSize"] > 12 * 1024 * 1024
    assert out["uploadEtag"].endswith('-3"')
    assert out["uploadEtag"] == out["expectedEtag"]
    assert (out["uploadBucket"], out["uploadKey"]) == ("js-bucket", "big/blob.bin")
    assert out["progressParts"] == [1, 2, 3]
    assert out["uploadChecksum"] == [out["expectedCompositeCrc32"], "COMPOSITE"]
    # ... and what GetObject streams back is the same bytes
    assert out["getEtag"] == out["uploadEtag"]
    assert out["getLength"] == out["bigSize"] == out["backSize"]
    assert out["getContentType"] == "application/octet-stream"
    assert out["getChecksum"] == out["uploadChecksum"]
    assert out["backSha256"] == out["bigSha256"] and out["backEqual"] is True
    assert out["streamed"] == [True, 11 * 2**20, True] and out["streamedEqual"] is True
    assert out["range"] == [206, f"bytes {5 * 2**20 - 3}-{5 * 2**20 + 4}/{out['bigSize']}", 8, True]

    # PutObject with a CRC32 checksum: stored, returned by PutObject, HeadObject and GetObject
    body = SMALL.encode()
    crc32 = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert out["putEtag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert out["putCrc32"] == out["headCrc32"] == out["smallBackCrc32"] == crc32
    assert out["putChecksumType"] == "FULL_OBJECT"
    assert out["headLength"] == len(body)
    assert out["smallBack"] == SMALL

    assert out["listed"] == [
        ["big/blob.bin", out["bigSize"], out["uploadEtag"]],
        ["big/other.txt", 5, f'"{hashlib.md5(b"other").hexdigest()}"'],
        ["small.txt", len(body), out["putEtag"]],
    ]
    assert out["listedCount"] == 3
    assert out["prefixed"] == [["big/blob.bin"], True, True]

    # the presigned URL: query-string SigV4 on the path-style URL, fetched by plain HTTP; editing it breaks it
    assert out["presignedQuery"] == [
        "X-Amz-Algorithm",
        "X-Amz-Content-Sha256",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
    ]
    assert out["presignedPathStyle"] == "/js-bucket/small.txt"
    assert out["presignedPayload"] == "UNSIGNED-PAYLOAD"
    assert out["presignedStatus"] == 200 and out["presignedBody"] == SMALL
    assert out["tamperedStatus"] == 403 and out["tamperedCode"] == "SignatureDoesNotMatch"

    # DeleteObjects reports a key that never existed as deleted, as S3 does
    assert out["deleted"] == ["big/blob.bin", "never-existed", "small.txt"]
    assert out["deleteErrors"] == []
    assert out["remaining"] == ["big/other.txt"]

    assert out["missing"] == [True, "NoSuchKey", 404]
    assert out["headMissing"] == ["NotFound", 404]  # a HEAD has no body, so the SDK names it by the status
    assert out["noBucket"] == [True, "NoSuchBucket", 404]
