// The mock server a frontend runs ahead of the backend: Prism on the committed contract answers
// each operation with the contract's examples, and the generated client reads them as typed data.
import { apiClient, expectError, expectStatus } from "../flow/api";
import { equal, fail, main, step } from "../flow/check";

const mockUrl = process.env.PRISM_URL ?? fail("PRISM_URL", "the mock server's URL", undefined);
const contractUrl = process.env.TASKLANE_URL ?? fail("TASKLANE_URL", "the server serving /openapi.json", undefined);

/** components.schemas[name].example of the contract the server serves. */
function exampleOf(contract: unknown, name: string): unknown {
  let node: unknown = contract;
  for (const key of ["components", "schemas", name, "example"]) {
    if (typeof node !== "object" || node === null || !(key in node)) return fail(`the contract's ${name} example`, "present", node);
    node = Object.entries(node).find(([k]) => k === key)?.[1];
  }
  return node;
}

void main("mock server (Prism)", async () => {
  const contract: unknown = await (await fetch(`${contractUrl}/openapi.json`)).json();
  const signedIn = apiClient(mockUrl, { current: { access: "any-token", refresh: "unused" } });
  const anonymous = apiClient(mockUrl);
  const project = "6b0201e8c0ffee00000000a1";

  await step("a list answers the example page, typed", async () => {
    const { data } = await expectStatus("projects-list", 200, signedIn.GET("/api/v1/projects"));
    equal("projects-list body", exampleOf(contract, "Page_ProjectRead_"), data);
    equal("first project key", "WEB", data.items[0]?.key);
  });

  await step("a task answers the example task, typed", async () => {
    const { data } = await expectStatus(
      "tasks-get",
      200,
      signedIn.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path: { project_id: project, task_id: "6b0201e8c0ffee00000000b2" } } }),
    );
    equal("tasks-get body", exampleOf(contract, "TaskRead"), data);
  });

  await step("a create answers 201 with the example", async () => {
    const { data } = await expectStatus(
      "tasks-create",
      201,
      signedIn.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: project } }, body: { title: "Try the mock" } }),
    );
    equal("tasks-create body", exampleOf(contract, "TaskRead"), data);
  });

  await step("no token: 401, as from the server", async () => {
    const { response } = await expectError("projects-list anonymous", 401, anonymous.GET("/api/v1/projects"));
    equal("401 status", 401, response.status);
  });
});
