import { tenantSchema } from "../../src/tenants/dto.ts";
import { type client, signUp, type TestUser } from "./test-api.ts";

/** A signed-up user who owns a fresh tenant. */
export async function ownerWithTenant(http: ReturnType<typeof client>, name = "Test tenant") {
  const owner: TestUser = await signUp();
  const response = await http.post("/tenants", { token: owner.idToken }, { name });
  if (response.status !== 201) throw new Error(`could not create a tenant: ${response.status}`);
  return { owner, tenantId: tenantSchema.parse(response.body).id };
}
