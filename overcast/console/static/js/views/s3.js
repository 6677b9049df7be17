// S3: buckets; a folder-style object browser a page at a time (never the whole bucket), with versions;
// uploads (multipart past 8 MB, with progress), downloads and presigned links; bucket settings.

import { call, presign, session } from "../aws.js";
import { go } from "../app.js";
import { download, fmtBytes, fmtTime, h, mount } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, jsonView, loading, section, select, table, tabs, textarea, toast } from "../ui.js";

const PAGE_SIZE = 100;
const PART_SIZE = 8 * 1024 * 1024;

export default async function s3(el, route) {
  const bucket = route.parts[1];
  if (!bucket) return buckets(el);
  return browser(el, bucket, route);
}

async function buckets(el) {
  const name = input({ id: "new-bucket", placeholder: "new-bucket-name", size: 28 });
  const list = section(async () => {
    const out = await call("s3", "ListBuckets", {});
    return table(
      [
        { label: "Bucket", render: (b) => h("a", { href: `#/s3/${encodeURIComponent(b.Name)}` }, b.Name) },
        { label: "Created", value: (b) => fmtTime(b.CreationDate) },
        { label: "Region", value: (b) => b.BucketRegion || "" },
      ],
      out.Buckets || [],
      { empty: "No bucket yet." },
    );
  });
  mount(
    el,
    heading("S3 buckets"),
    h("div", { class: "toolbar" }, name, button("Create bucket", async () => {
      const bucket = name.value.trim();
      if (!bucket) throw new Error("Name the bucket first");
      const input = { Bucket: bucket };
      if (session.region !== "us-east-1") input.CreateBucketConfiguration = { LocationConstraint: session.region };
      await call("s3", "CreateBucket", input);
      toast(`Bucket ${bucket} created`);
      name.value = "";
      list.reload();
    }, { class: "primary", id: "create-bucket" })),
    list,
  );
}

async function browser(el, bucket, route) {
  const prefix = route.query.get("prefix") || "";
  const versions = route.query.get("versions") === "1";
  const crumbs = [h("a", { href: "#/s3" }, "Buckets"), " / ", h("a", { href: `#/s3/${encodeURIComponent(bucket)}` }, bucket)];
  let path = "";
  for (const part of prefix.split("/").filter(Boolean)) {
    path += `${part}/`;
    crumbs.push(" / ", h("a", { href: `#/s3/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(path)}` }, part));
  }
  mount(
    el,
    h("div", { class: "crumbs" }, crumbs),
    heading(bucket),
    tabs([
      { label: "Objects", render: () => objects(bucket, prefix, versions) },
      { label: "Settings", render: () => section((reload) => settings(bucket, reload)) },
    ]),
  );
}

function objects(bucket, prefix, versions) {
  const area = h("div");
  const uploads = h("div", { id: "uploads" });
  const fileInput = h("input", { type: "file", multiple: true, id: "upload-input" });
  const pagerArea = h("div", { class: "pager" });
  const listArea = h("div", { id: "object-list" });
  const markers = [{}];
  const reload = () => show(0);
  fileInput.addEventListener("change", async () => {
    for (const file of fileInput.files) await upload(bucket, prefix + file.name, file, uploads);
    fileInput.value = "";
    reload();
  });
  const versionsToggle = h("input", { type: "checkbox", id: "show-versions", checked: versions });
  versionsToggle.addEventListener("change", () => go(["s3", bucket], { prefix, versions: versionsToggle.checked ? "1" : "" }));

  async function show(page) {
    mount(listArea, loading());
    try {
      const { rows, next } = versions ? await versionPage(bucket, prefix, markers[page]) : await objectPage(bucket, prefix, markers[page]);
      if (next) markers[page + 1] = next;
      mount(listArea, objectTable(bucket, prefix, rows, reload));
      mount(
        pagerArea,
        page > 0 ? button("‹ Previous", () => show(page - 1), { id: "page-previous" }) : null,
        h("span", { class: "muted", id: "page-info" }, `Page ${page + 1} · ${rows.length} entries`),
        next ? button("Next ›", () => show(page + 1), { id: "page-next" }) : null,
      );
    } catch (error) {
      mount(listArea, errorBox(error));
    }
  }

  const folder = input({ placeholder: "folder name", size: 16 });
  mount(
    area,
    h(
      "div",
      { class: "toolbar" },
      h("label", { class: "button-like" }, "Upload files ", fileInput),
      folder,
      button("Create folder", async () => {
        if (!folder.value.trim()) return;
        await call("s3", "PutObject", { Bucket: bucket, Key: `${prefix}${folder.value.trim().replace(/\/+$/, "")}/`, Body: "" });
        folder.value = "";
        reload();
      }),
      h("label", versionsToggle, " show versions"),
      button("Refresh", reload),
    ),
    uploads,
    listArea,
    pagerArea,
  );
  show(0);
  return area;
}

async function objectPage(bucket, prefix, marker) {
  const out = await call("s3", "ListObjectsV2", { Bucket: bucket, Prefix: prefix || undefined, Delimiter: "/", MaxKeys: PAGE_SIZE, ...marker });
  const rows = [
    ...(out.CommonPrefixes || []).map((p) => ({ folder: p.Prefix })),
    ...(out.Contents || []).filter((o) => o.Key !== prefix).map((o) => ({ key: o.Key, size: o.Size, modified: o.LastModified, storage: o.StorageClass, etag: o.ETag })),
  ];
  return { rows, next: out.IsTruncated && out.NextContinuationToken ? { ContinuationToken: out.NextContinuationToken } : null };
}

async function versionPage(bucket, prefix, marker) {
  const out = await call("s3", "ListObjectVersions", { Bucket: bucket, Prefix: prefix || undefined, Delimiter: "/", MaxKeys: PAGE_SIZE, ...marker });
  const rows = [
    ...(out.CommonPrefixes || []).map((p) => ({ folder: p.Prefix })),
    ...(out.Versions || []).map((v) => ({ key: v.Key, size: v.Size, modified: v.LastModified, version: v.VersionId, latest: v.IsLatest, etag: v.ETag })),
    ...(out.DeleteMarkers || []).map((d) => ({ key: d.Key, modified: d.LastModified, version: d.VersionId, latest: d.IsLatest, deleteMarker: true })),
  ];
  rows.sort((a, b) => (a.folder ? -1 : b.folder ? 1 : a.key.localeCompare(b.key) || b.modified - a.modified));
  const next = out.IsTruncated ? { KeyMarker: out.NextKeyMarker, VersionIdMarker: out.NextVersionIdMarker } : null;
  return { rows, next };
}

function objectTable(bucket, prefix, rows, reload) {
  const nameOf = (row) => (row.folder || row.key).slice(prefix.length);
  return table(
    [
      {
        label: "Name",
        render: (row) =>
          row.folder
            ? h("a", { href: `#/s3/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(row.folder)}`, class: "folder" }, h("span", { class: "badge" }, "folder"), " ", nameOf(row))
            : h("span", { class: "object-name" }, nameOf(row)),
      },
      { label: "Size", value: (row) => (row.folder || row.deleteMarker ? "" : fmtBytes(row.size)) },
      { label: "Modified", value: (row) => (row.modified ? fmtTime(row.modified) : "") },
      { label: "Version", render: (row) => (row.version ? h("span", { class: "mono" }, row.version.slice(0, 12), row.latest ? h("span", { class: "badge ok" }, " latest") : null, row.deleteMarker ? h("span", { class: "badge bad" }, " delete marker") : null) : "") },
      {
        label: "",
        render: (row) =>
          row.folder || row.deleteMarker
            ? ""
            : h(
                "span",
                { class: "toolbar" },
                button("Download", () => downloadObject(bucket, row), { class: "small" }),
                button("Link", () => presignDialog(bucket, row), { class: "small" }),
                button("Delete", async () => {
                  await call("s3", "DeleteObject", { Bucket: bucket, Key: row.key, VersionId: row.version });
                  toast(`Deleted ${row.key}`);
                  reload();
                }, { class: "small danger" }),
              ),
      },
    ],
    rows,
    { empty: "This folder is empty." },
  );
}

async function downloadObject(bucket, row) {
  const url = await presign("s3", "GetObject", { Bucket: bucket, Key: row.key, VersionId: row.version, ResponseContentDisposition: `attachment; filename="${row.key.split("/").pop()}"` }, 300);
  download(row.key.split("/").pop(), url);
}

async function presignDialog(bucket, row) {
  const expires = select([["900", "15 minutes"], ["3600", "1 hour"], ["86400", "1 day"], ["604800", "7 days"]], { value: "3600" });
  const method = select([["GetObject", "GET (download)"], ["PutObject", "PUT (upload)"]]);
  const out = h("div");
  const make = async () => {
    const url = await presign("s3", method.value, { Bucket: bucket, Key: row.key, VersionId: method.value === "GetObject" ? row.version : undefined }, Number(expires.value));
    mount(out, textarea({ rows: 4, readonly: true, value: url, id: "presigned-url" }), h("p", { class: "muted" }, "Expires on Overcast's virtual clock."));
  };
  expires.addEventListener("change", make);
  method.addEventListener("change", make);
  await make();
  await dialog(`Presigned link: ${row.key}`, h("div", field("Operation", method), field("Valid for", expires), out), { ok: "Close" });
}

async function upload(bucket, key, file, area) {
  const bar = h("div");
  const label = h("span", { class: "muted" }, "0%");
  const row = h("div", { class: "upload" }, `${key} (${fmtBytes(file.size)}) `, h("span", { class: "progress" }, bar), " ", label);
  area.append(row);
  const progress = (done) => {
    const percent = file.size ? Math.round((100 * done) / file.size) : 100;
    bar.style.width = `${percent}%`;
    label.textContent = `${percent}%`;
  };
  try {
    if (file.size <= PART_SIZE) {
      await call("s3", "PutObject", { Bucket: bucket, Key: key, Body: file, ContentType: file.type || undefined }, { onUploadProgress: (loaded) => progress(loaded) });
    } else {
      await multipart(bucket, key, file, progress);
    }
    progress(file.size);
    label.textContent = "done";
    toast(`Uploaded ${key}`);
  } catch (error) {
    label.textContent = `failed: ${error.code || error.message}`;
    throw error;
  }
}

async function multipart(bucket, key, file, progress) {
  const { UploadId } = await call("s3", "CreateMultipartUpload", { Bucket: bucket, Key: key, ContentType: file.type || undefined });
  const parts = [];
  try {
    for (let start = 0, number = 1; start < file.size; start += PART_SIZE, number++) {
      const body = file.slice(start, Math.min(start + PART_SIZE, file.size));
      const out = await call("s3", "UploadPart", { Bucket: bucket, Key: key, UploadId, PartNumber: number, Body: body }, { onUploadProgress: (loaded) => progress(start + loaded) });
      parts.push({ ETag: out.ETag, PartNumber: number });
    }
    await call("s3", "CompleteMultipartUpload", { Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } });
  } catch (error) {
    await call("s3", "AbortMultipartUpload", { Bucket: bucket, Key: key, UploadId }).catch(() => {});
    throw error;
  }
}

// -- settings ----------------------------------------------------------------------------------------------

async function optional(promise, missing) {
  try {
    return await promise;
  } catch (error) {
    if (missing.includes(error.code)) return null;
    throw error;
  }
}

async function settings(bucket, reload) {
  const [versioning, tagging, policy, cors, lifecycle, encryption] = await Promise.all([
    call("s3", "GetBucketVersioning", { Bucket: bucket }),
    optional(call("s3", "GetBucketTagging", { Bucket: bucket }), ["NoSuchTagSet"]),
    optional(call("s3", "GetBucketPolicy", { Bucket: bucket }), ["NoSuchBucketPolicy"]),
    optional(call("s3", "GetBucketCors", { Bucket: bucket }), ["NoSuchCORSConfiguration"]),
    optional(call("s3", "GetBucketLifecycleConfiguration", { Bucket: bucket }), ["NoSuchLifecycleConfiguration"]),
    optional(call("s3", "GetBucketEncryption", { Bucket: bucket }), ["ServerSideEncryptionConfigurationNotFoundError"]),
  ]);
  const status = versioning.Status || "Off";
  const tags = textarea({ rows: 4, id: "bucket-tags", value: (tagging ? tagging.TagSet : []).map((t) => `${t.Key}=${t.Value}`).join("\n") });
  const policyText = textarea({ rows: 8, id: "bucket-policy", value: policy && policy.Policy ? JSON.stringify(JSON.parse(policy.Policy), null, 2) : "" });
  return h(
    "div",
    h("div", { class: "panel" }, h("h3", "Versioning"), h("p", "Status: ", h("strong", { id: "versioning-status" }, status)), button(status === "Enabled" ? "Suspend versioning" : "Enable versioning", async () => {
      await call("s3", "PutBucketVersioning", { Bucket: bucket, VersioningConfiguration: { Status: status === "Enabled" ? "Suspended" : "Enabled" } });
      toast("Versioning changed");
      reload();
    }, { id: "toggle-versioning" })),
    h("div", { class: "panel" }, h("h3", "Tags"), h("p", { class: "muted" }, "One key=value a line."), tags, button("Save tags", async () => {
      const TagSet = tags.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => ({ Key: l.split("=")[0], Value: l.split("=").slice(1).join("=") }));
      if (TagSet.length) await call("s3", "PutBucketTagging", { Bucket: bucket, Tagging: { TagSet } });
      else await call("s3", "DeleteBucketTagging", { Bucket: bucket });
      toast("Tags saved");
    })),
    h("div", { class: "panel" }, h("h3", "Bucket policy"), policyText, button("Save policy", async () => {
      if (policyText.value.trim()) await call("s3", "PutBucketPolicy", { Bucket: bucket, Policy: policyText.value });
      else await call("s3", "DeleteBucketPolicy", { Bucket: bucket });
      toast("Policy saved");
    })),
    h("div", { class: "panel" }, h("h3", "CORS"), cors ? jsonView(cors.CORSRules) : h("p", { class: "muted" }, "No CORS rules.")),
    h("div", { class: "panel" }, h("h3", "Lifecycle"), lifecycle ? jsonView(lifecycle.Rules) : h("p", { class: "muted" }, "No lifecycle rules.")),
    h("div", { class: "panel" }, h("h3", "Default encryption"), encryption ? jsonView(encryption.ServerSideEncryptionConfiguration) : h("p", { class: "muted" }, "None.")),
  );
}
