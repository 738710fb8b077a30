// Attachments (issue 22) as a task's "Files" panel uses them: upload (multipart), list, metadata,
// download whole and by range (resume), a refused type, a range beyond the end, delete. No casts.
//
// openapi-typescript (default options) types a `format: binary` part as `string`: the file's
// content. A text file's content is exactly that string, so the upload sends one; a UI uploading
// binary files from openapi-typescript types maps `format: binary` to `Blob` with the generator's
// `transform` option, or uses the hey-api client, which types it `Blob | File` (flow-hey-api).
import { type Api, type Schemas, expectEmpty, expectError, expectStatus, header } from "./api";
import { check, equal, step } from "./check";

export interface FilesPanel {
  uploader: Api;
  uploaderId: string;
  project: Schemas["ProjectRead"];
  task: Schemas["TaskRead"];
}

const CSV = "sprint,points\n41,23\n42,31\nété,0\n";

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** One `file` part, its content and part Content-Type as the contract's body carries them. */
function filePart(name: string, type: string): (body: { file: string }) => FormData {
  return (body) => {
    const form = new FormData();
    form.append("file", new Blob([body.file], { type }), name);
    return form;
  };
}

export async function attachmentsFlow({ uploader, uploaderId, project, task }: FilesPanel): Promise<void> {
  const path = { project_id: project.id, task_id: task.id };
  let attachment: Schemas["AttachmentRead"] | undefined;

  await step("attachments: upload a CSV (multipart), read it back in the list and by id", async () => {
    const created = await expectStatus(
      "attachments-create",
      201,
      uploader.POST("/api/v1/projects/{project_id}/tasks/{task_id}/attachments", {
        params: { path },
        body: { file: CSV },
        bodySerializer: filePart("../velocity.csv", "text/csv"),
      }),
    );
    attachment = created.data;
    const bytes = new TextEncoder().encode(CSV);
    equal("attachments-create: Location", `/api/v1/projects/${project.id}/tasks/${task.id}/attachments/${attachment.id}`, header("create", created.response, "Location"));
    equal("attachments-create: the name, without its path", "velocity.csv", attachment.filename);
    equal("attachments-create: content type (sniffed: text)", "text/csv", attachment.content_type);
    equal("attachments-create: size", bytes.length, attachment.size);
    equal("attachments-create: sha256", await sha256Hex(bytes.buffer), attachment.sha256);
    equal("attachments-create: uploader", uploaderId, attachment.uploader.id);
    const listed = await expectStatus("attachments-list", 200, uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments", { params: { path } }));
    equal("attachments-list: the upload", [attachment.id], listed.data.items.map((a) => a.id));
    const one = await expectStatus(
      "attachments-get",
      200,
      uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}", { params: { path: { ...path, attachment_id: attachment.id } } }),
    );
    equal("attachments-get: as created", attachment, one.data);
  });

  await step("attachments: download whole (Blob), then resume from byte 10 (206), then past the end (416)", async () => {
    check(attachment !== undefined, "attachments: uploaded", "an attachment", attachment);
    const at = { params: { path: { ...path, attachment_id: attachment.id } } };
    const whole = await expectStatus("attachments-download", 200, uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/content", { ...at, parseAs: "blob" }));
    equal("download: the bytes", CSV, await whole.data.text());
    equal("download: ETag", `"${attachment.sha256}"`, header("download", whole.response, "ETag"));
    equal("download: nosniff", "nosniff", header("download", whole.response, "X-Content-Type-Options"));
    check(header("download", whole.response, "Content-Disposition").startsWith("attachment;"), "download: a download", "attachment; ...", whole.response.headers.get("Content-Disposition"));
    const rest = await expectStatus(
      "attachments-download (Range)",
      206,
      uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/content", {
        params: { ...at.params, header: { Range: "bytes=10-" } },
        parseAs: "arrayBuffer",
      }),
    );
    const size = attachment.size;
    equal("download (Range): the rest", [...new TextEncoder().encode(CSV).slice(10)], [...new Uint8Array(rest.data)]);
    equal("download (Range): Content-Range", `bytes 10-${size - 1}/${size}`, header("range", rest.response, "Content-Range"));
    const beyond = await expectError(
      "attachments-download (Range beyond the end)",
      416,
      uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/content", {
        params: { ...at.params, header: { Range: `bytes=${size}-` } },
      }),
    );
    equal("416: error_code", "RANGE_NOT_SATISFIABLE", beyond.error.error_code);
    equal("416: Content-Range", `bytes */${size}`, header("416", beyond.response, "Content-Range"));
  });

  await step("attachments: a file that is not what it claims is refused (415, narrowed on error_code)", async () => {
    const refused = await expectError(
      "attachments-create (a text claimed to be a PNG)",
      415,
      uploader.POST("/api/v1/projects/{project_id}/tasks/{task_id}/attachments", {
        params: { path },
        body: { file: "not a picture" },
        bodySerializer: filePart("fake.png", "image/png"),
      }),
    );
    const code = refused.error.error_code;
    switch (code) {
      case "CONTENT_TYPE_MISMATCH":
        break;
      default:
        check(false, "415: error_code", "CONTENT_TYPE_MISMATCH", code);
    }
  });

  await step("attachments: the uploader deletes; the download is then 404", async () => {
    check(attachment !== undefined, "attachments: uploaded", "an attachment", attachment);
    const at = { params: { path: { ...path, attachment_id: attachment.id } } };
    await expectEmpty("attachments-delete", 204, uploader.DELETE("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}", at));
    const gone = await expectError("attachments-download (deleted)", 404, uploader.GET("/api/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/content", at));
    equal("deleted: error_code", "ATTACHMENT_NOT_FOUND", gone.error.error_code);
  });
}
