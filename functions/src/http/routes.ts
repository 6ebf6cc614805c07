import { apiKeyRoutes } from "../api-keys/routes.ts";
import { auditRoutes } from "../audit/routes.ts";
import { billingRoutes } from "../billing/routes.ts";
import { botRoutes } from "../bots/routes.ts";
import { campaignRoutes } from "../campaigns/routes.ts";
import { chatRoutes } from "../chats/routes.ts";
import { contactRoutes } from "../contacts/routes.ts";
import { invitationRoutes } from "../invitations/routes.ts";
import { jobRoutes } from "../jobs/routes.ts";
import { mediaRoutes } from "../media/routes.ts";
import { memberRoutes } from "../members/routes.ts";
import { templateRoutes } from "../templates/routes.ts";
import { closingRoutes } from "../tenants/closing-routes.ts";
import { tenantRoutes } from "../tenants/routes.ts";
import { webhookRoutes } from "../webhooks/routes.ts";
import type { RouteDefinition } from "./route.ts";

/** Every operation of the tenant API, in the order the reference lists them. */
export const apiRoutes: readonly RouteDefinition[] = [
  ...tenantRoutes,
  ...closingRoutes,
  ...memberRoutes,
  ...invitationRoutes,
  ...botRoutes,
  ...mediaRoutes,
  ...chatRoutes,
  ...webhookRoutes,
  ...contactRoutes,
  ...templateRoutes,
  ...campaignRoutes,
  ...billingRoutes,
  ...apiKeyRoutes,
  ...jobRoutes,
  ...auditRoutes,
];
