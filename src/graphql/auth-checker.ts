import type { AuthChecker } from "type-graphql";
import { forbidden } from "../errors";
import type { Context } from "./context";

/**
 * `@Authorized()` needs a valid access token; `@Authorized("ADMIN")` also that role.
 * Throws the contract's codes itself (type-graphql's own errors say UNAUTHORIZED).
 */
export const authChecker: AuthChecker<Context> = async ({ context }, roles) => {
  const viewer = await context.requireViewer();
  if (roles.length > 0 && !roles.includes(viewer.user.role)) throw forbidden();
  return true;
};
