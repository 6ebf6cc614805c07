import { requireEnv, uniqueId } from "@whatsdex/core/testing";
import { getAuth } from "firebase-admin/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { invitationSchema } from "../src/invitations/dto.ts";
import { memberSchema } from "../src/members/routes.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi, type TestUser } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const signUpResponse = z.object({ localId: z.string(), idToken: z.string() });

/** An Auth emulator account claiming `email` (unverified, as anyone can sign up with any address). */
async function signUpAs(email: string): Promise<TestUser> {
  const host = requireEnv("FIREBASE_AUTH_EMULATOR_HOST");
  const response = await fetch(`http://${host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=emulator`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", returnSecureToken: true }),
  });
  if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const body = signUpResponse.parse(await response.json());
  return { uid: body.localId, email, idToken: body.idToken };
}

/** The account proves its address (the emulator's equivalent of clicking the verification link). */
async function verifyEmail(user: TestUser): Promise<TestUser> {
  await getAuth(api.firebase.app).updateUser(user.uid, { emailVerified: true });
  return user;
}

const invite = (tenantId: string, token: string, email: string, role = "viewer") =>
  http.post(`/tenants/${tenantId}/members`, { token }, { email, role });
const accept = (id: string, token: string) => http.post(`/invitations/${id}/accept`, { token });

describe("invitations (adding a member by email)", () => {
  it("an unverified account claiming the invited address gets nothing; the verified owner of it joins by accepting", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const address = `${uniqueId("invitee")}@example.test`;
    // Someone signs up first with the address they do not own.
    const squatter = await signUpAs(address);

    const invited = await invite(tenantId, owner.idToken, address.toUpperCase(), "admin");
    expect(invited.status).toBe(202);
    const invitation = invitationSchema.parse(invited.body);
    expect(invitation).toMatchObject({
      email: address,
      role: "admin",
      status: "pending",
      invitedBy: `user:${owner.uid}`,
    });
    // Nothing was granted by the invitation itself.
    expect((await http.get(`/tenants/${tenantId}`, { token: squatter.idToken })).status).toBe(404);

    const refused = await accept(invitation.id, squatter.idToken);
    expect(refused.status).toBe(403);
    expect(problemSchema.parse(refused.body).details).toEqual({ reason: "email_not_verified" });
    expect((await http.get(`/tenants/${tenantId}`, { token: squatter.idToken })).status).toBe(404);
    expect((await api.firebase.firestore.doc(`tenants/${tenantId}/members/${squatter.uid}`).get()).exists).toBe(false);

    // A verified account with another address cannot take it either.
    const other = await verifyEmail(await signUp());
    const wrongAddress = await accept(invitation.id, other.idToken);
    expect(wrongAddress.status).toBe(403);
    expect(problemSchema.parse(wrongAddress.body).details).toEqual({ reason: "email_mismatch" });

    // Once the account has verified the address, accepting makes it a member with the invited role.
    await verifyEmail(squatter);
    const accepted = await accept(invitation.id, squatter.idToken);
    expect(accepted.status).toBe(201);
    expect(memberSchema.parse(accepted.body)).toMatchObject({ uid: squatter.uid, role: "admin", email: address });
    expect((await http.get(`/tenants/${tenantId}`, { token: squatter.idToken })).status).toBe(200);
    const again = await accept(invitation.id, squatter.idToken);
    expect(problemSchema.parse(again.body).code).toBe("conflict");

    const listed = pageOf(invitationSchema).parse(
      (await http.get(`/tenants/${tenantId}/invitations`, { token: owner.idToken })).body,
    );
    expect(listed.items.map((i) => [i.id, i.status])).toEqual([[invitation.id, "accepted"]]);
  });

  it("refuses a second pending invitation and an existing member's address; revoked invitations cannot be accepted", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const invitee = await verifyEmail(await signUp());
    const first = invitationSchema.parse((await invite(tenantId, owner.idToken, invitee.email)).body);
    expect(problemSchema.parse((await invite(tenantId, owner.idToken, invitee.email)).body).code).toBe("conflict");
    expect((await invite(tenantId, owner.idToken, "not-an-email")).status).toBe(400);

    const revoked = await http.delete(`/tenants/${tenantId}/invitations/${first.id}`, { token: owner.idToken });
    expect(invitationSchema.parse(revoked.body).status).toBe("revoked");
    expect((await http.delete(`/tenants/${tenantId}/invitations/${first.id}`, { token: owner.idToken })).status).toBe(
      409,
    );
    expect((await accept(first.id, invitee.idToken)).status).toBe(409);
    expect((await accept("no-such-invitation", invitee.idToken)).status).toBe(404);

    const second = invitationSchema.parse((await invite(tenantId, owner.idToken, invitee.email)).body);
    expect((await accept(second.id, invitee.idToken)).status).toBe(201);
    expect(problemSchema.parse((await invite(tenantId, owner.idToken, invitee.email)).body).code).toBe("conflict");
  });

  it("only owners invite owners; viewers and API keys cannot list or make invitations", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await verifyEmail(await signUp());
    const viewer = await verifyEmail(await signUp());
    for (const [user, role] of [
      [admin, "admin"],
      [viewer, "viewer"],
    ] as const) {
      const sent = invitationSchema.parse((await invite(tenantId, owner.idToken, user.email, role)).body);
      expect((await accept(sent.id, user.idToken)).status).toBe(201);
    }
    expect((await invite(tenantId, admin.idToken, "boss@example.test", "owner")).status).toBe(403);
    expect((await invite(tenantId, viewer.idToken, "friend@example.test")).status).toBe(403);
    expect((await http.get(`/tenants/${tenantId}/invitations`, { token: viewer.idToken })).status).toBe(403);
    const key = z
      .object({ key: z.string() })
      .parse(
        (await http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "k", scopes: ["admin"] }))
          .body,
      );
    expect((await http.get(`/tenants/${tenantId}/invitations`, { apiKey: key.key })).status).toBe(401);
  });

  it("an invitation lapses when its sender can no longer grant its role", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await verifyEmail(await signUp());
    expect(
      (await http.post(`/tenants/${tenantId}/members`, { token: owner.idToken }, { uid: admin.uid, role: "admin" }))
        .status,
    ).toBe(201);
    const invitee = await verifyEmail(await signUp());
    const sent = invitationSchema.parse((await invite(tenantId, admin.idToken, invitee.email, "admin")).body);
    await http.patch(`/tenants/${tenantId}/members/${admin.uid}`, { token: owner.idToken }, { role: "viewer" });
    const lapsed = await accept(sent.id, invitee.idToken);
    expect(lapsed.status).toBe(409);
    expect((await http.get(`/tenants/${tenantId}`, { token: invitee.idToken })).status).toBe(404);
  });
});
